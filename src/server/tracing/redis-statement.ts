/**
 * What a Redis span says of its command: the name and the first argument (the key, or a script's sha), never
 * the values. The instrumentation's default writes every argument of EVAL/EVALSHA and of reads, and the
 * registry's scripts carry sealed credentials and callers' data.
 */
export function redisStatement(command: string, args: readonly unknown[]): string {
  const first = args[0];
  if (/^eval$/i.test(command) || (typeof first !== 'string' && !Buffer.isBuffer(first))) return command;
  return `${command} ${first.toString()}`;
}
