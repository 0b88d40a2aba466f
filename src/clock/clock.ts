/** Time, injectable so time-window rules can be tested without waiting. */
export class Clock {
  now(): Date {
    return new Date();
  }
}
