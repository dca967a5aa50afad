export interface CommandIO {
  out(s: string): void;
  err(s: string): void;
}
