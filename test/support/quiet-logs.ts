import { Logger } from '@nestjs/common';

// The gateway's own log lines (start-up, expected 503s) would drown the test report; tests
// assert on responses and audit leaves, not on log text.
Logger.overrideLogger(false);
