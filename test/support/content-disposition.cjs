// Jest on Node 20 cannot require() ESM, and @fastify/static (which serves /docs) depends on the
// ESM-only content-disposition 3. For tests only, the CommonJS 0.5 release stands in; the
// gateway itself runs the real dependency.
const legacy = require('../../node_modules/content-disposition/index.js');
module.exports = { create: legacy, parse: legacy.parse };
