/**
 * What the poll path costs Redis, read from the Redis side only (nothing inside the gateway is trusted):
 * - `INFO cpu stats` per node: `used_cpu_user + used_cpu_sys` (the redis-server process's CPU, every
 *   thread) and `total_commands_processed` (which counts the commands a script runs inside too);
 * - `MONITOR` per node: one line per command a client sent; a command a script runs shows as `[0 lua]` and is
 *   not a round trip. Our own probe and MONITOR connections are left out by their client address.
 *
 * MONITOR costs Redis CPU itself (it formats every command for every monitor), so CPU and commands are read in
 * a window without it and round trips in a window of their own.
 *
 * Raw sockets rather than ioredis: a monitor at thousands of commands a second must cost the bench process
 * (which shares the machine) as little as possible, and a cluster node is read node by node anyway.
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** One node's counters at one moment. */
export interface RedisNodeSample {
  cpuMicros: number;
  commands: number;
}

/** A probe connection to one node: one RESP command at a time, for INFO, DBSIZE and CONFIG SET. */
export class RedisProbe {
  #buffer = '';
  #waiter: ((reply: string) => void) | null = null;

  private constructor(
    readonly node: RedisNodeAddress,
    private readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      const reply = completeReply(this.#buffer);
      if (reply === null || !this.#waiter) return;
      this.#buffer = '';
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter(reply);
    });
    socket.on('error', () => {});
  }

  static async open(node: RedisNodeAddress): Promise<RedisProbe> {
    const socket = connect(node.port, node.host);
    await once(socket, 'connect');
    const probe = new RedisProbe(node, socket);
    await probe.command('CLIENT', 'SETNAME', 'bench-poll-path-probe');
    return probe;
  }

  /** This connection as Redis names it in MONITOR lines and CLIENT LIST (`127.0.0.1:54321`). */
  get clientAddress(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  command(...args: string[]): Promise<string> {
    if (this.#waiter) throw new Error('RedisProbe: one command at a time');
    const reply = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis ${this.node.port}: no reply to ${args[0]} within 5 s`)), 5_000);
      this.#waiter = (text) => {
        clearTimeout(timer);
        if (text.startsWith('-')) reject(new Error(`Redis ${this.node.port}: ${args[0]} failed: ${text.trim()}`));
        else resolve(text);
      };
    });
    this.socket.write(encodeCommand(args));
    return reply;
  }

  async sample(): Promise<RedisNodeSample> {
    const info = await this.command('INFO', 'cpu', 'stats');
    const field = (name: string) => {
      const match = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
      if (!match) throw new Error(`Redis ${this.node.port}: INFO has no ${name}`);
      return Number(match[1]);
    };
    return {
      cpuMicros: Math.round((field('used_cpu_user') + field('used_cpu_sys')) * 1e6),
      commands: field('total_commands_processed'),
    };
  }

  async keyCount(): Promise<number> {
    return Number(/^:(\d+)/.exec(await this.command('DBSIZE'))?.[1] ?? 0);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Samples every node at once. */
export const sampleAll = (probes: readonly RedisProbe[]): Promise<RedisNodeSample[]> => Promise.all(probes.map((probe) => probe.sample()));

/** What MONITOR saw on one node: client commands by name, and how many lines came from scripts. */
export interface MonitorCounts {
  /** Commands sent by clients other than ours (the round trips), by command name. */
  byCommand: Record<string, number>;
  clientCommands: number;
  scriptCommands: number;
  /** Lines from our own connections (left out of both counts above). */
  ownCommands: number;
}

/** A MONITOR connection to one node, counting lines as they arrive (no line is kept). */
export class RedisMonitor {
  readonly counts: MonitorCounts = { byCommand: {}, clientCommands: 0, scriptCommands: 0, ownCommands: 0 };
  #carry = '';

  private constructor(
    private readonly socket: Socket,
    private readonly excluded: Set<string>,
  ) {}

  /** Resolves once Redis has answered +OK: from then on, every command reaches the count. */
  static async open(node: RedisNodeAddress, excludedClients: readonly string[]): Promise<RedisMonitor> {
    const socket = connect(node.port, node.host);
    await once(socket, 'connect');
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    const monitor = new RedisMonitor(socket, new Set([...excludedClients, `${socket.localAddress}:${socket.localPort}`]));
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis ${node.port}: MONITOR not acknowledged within 5 s`)), 5_000);
      let acknowledged = false;
      socket.on('data', (chunk: string) => {
        if (acknowledged) return monitor.#count(chunk);
        const text = monitor.#carry + chunk;
        const end = text.indexOf('\r\n');
        if (end < 0) return void (monitor.#carry = text);
        if (!text.startsWith('+OK')) return reject(new Error(`Redis ${node.port}: MONITOR answered ${text.slice(0, end)}`));
        acknowledged = true;
        clearTimeout(timer);
        monitor.#carry = '';
        monitor.#count(text.slice(end + 2));
        resolve();
      });
    });
    socket.write(encodeCommand(['MONITOR']));
    await started;
    return monitor;
  }

  /** Lines look like `+1701471234.123456 [0 127.0.0.1:54321] "EVALSHA" "…" …` or `… [0 lua] "GET" …`. */
  #count(chunk: string): void {
    const text = this.#carry + chunk;
    let start = 0;
    for (let end = text.indexOf('\r\n', start); end >= 0; end = text.indexOf('\r\n', start)) {
      const open = text.indexOf('[', start);
      const close = text.indexOf(']', open);
      if (open >= 0 && close > open && close < end) {
        const source = text.slice(text.indexOf(' ', open) + 1, close);
        if (source === 'lua') this.counts.scriptCommands += 1;
        else if (this.excluded.has(source)) this.counts.ownCommands += 1;
        else {
          this.counts.clientCommands += 1;
          const nameStart = text.indexOf('"', close) + 1;
          const name = text.slice(nameStart, text.indexOf('"', nameStart)).toUpperCase();
          this.counts.byCommand[name] = (this.counts.byCommand[name] ?? 0) + 1;
        }
      }
      start = end + 2;
    }
    this.#carry = text.slice(start);
  }

  close(): MonitorCounts {
    this.socket.destroy();
    return this.counts;
  }
}

/** Adds up what the monitors of every node saw. */
export function sumMonitorCounts(all: readonly MonitorCounts[]): MonitorCounts {
  const total: MonitorCounts = { byCommand: {}, clientCommands: 0, scriptCommands: 0, ownCommands: 0 };
  for (const counts of all) {
    total.clientCommands += counts.clientCommands;
    total.scriptCommands += counts.scriptCommands;
    total.ownCommands += counts.ownCommands;
    for (const [name, count] of Object.entries(counts.byCommand)) total.byCommand[name] = (total.byCommand[name] ?? 0) + count;
  }
  return total;
}

function encodeCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/**
 * The whole reply when `text` holds one, else null. Only the reply kinds the probe asks for: simple
 * strings, errors, integers and bulk strings (INFO).
 */
function completeReply(text: string): string | null {
  const end = text.indexOf('\r\n');
  if (end < 0) return null;
  if (text[0] !== '$') return text.slice(0, end + 2);
  const length = Number(text.slice(1, end));
  if (length < 0) return text.slice(0, end + 2);
  const body = text.slice(end + 2);
  // INFO is ASCII, so string length is byte length.
  return body.length >= length + 2 ? body.slice(0, length) : null;
}
