/**
 * Preloaded into benchmark children (node --require): when the benchmark process goes away
 * without cleaning up (SIGKILL, crash), the child's stdin pipe closes and the child stops
 * itself with SIGTERM, so no gateway outlives its benchmark. Costs nothing while idle.
 */
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => undefined);
process.stdin.resume();
