// Hole punching and hole finding for the sparse backing files. Node's fs has neither
// fallocate(FALLOC_FL_PUNCH_HOLE) nor lseek(SEEK_DATA/SEEK_HOLE), and spawning
// `fallocate` per UNMAP costs milliseconds, so one long-lived python3 helper (stdlib
// only: os.lseek and ctypes) serves every file of the process over a pipe. Without
// python3, or on a filesystem that cannot punch, callers fall back to writing zeroes
// and to reporting blocks as mapped, both of which stay truthful.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';

const HELPER = String.raw`
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fallocate = libc.fallocate
fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
PUNCH_HOLE_KEEP_SIZE = 0x02 | 0x01
files = {}
out = sys.stdout
for line in sys.stdin:
    rid, op, rest = line.rstrip('\n').split(' ', 2)
    try:
        if op == 'O':
            fid, dev, ino, path = rest.split(' ', 3)
            fd = os.open(path, os.O_RDWR)
            st = os.fstat(fd)
            if st.st_dev != int(dev) or st.st_ino != int(ino):
                os.close(fd)
                raise OSError(errno.ESTALE, 'not the file the caller has open')
            files[fid] = fd
            res = '0'
        elif op == 'C':
            os.close(files.pop(rest))
            res = '0'
        elif op == 'P':
            fid, off, length = rest.split(' ')
            if fallocate(files[fid], PUNCH_HOLE_KEEP_SIZE, int(off), int(length)) != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            res = '0'
        elif op == 'S':
            fid, off = rest.split(' ')
            fd, off = files[fid], int(off)
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                data = -1
            hole = os.lseek(fd, off, os.SEEK_HOLE) if data == off else off
            res = '0 %d %d' % (data, hole)
        else:
            res = 'E %d' % errno.EINVAL
    except OSError as e:
        res = 'E %d' % (e.errno or errno.EIO)
    except Exception:
        res = 'E %d' % errno.EINVAL
    out.write(rid + ' ' + res + '\n')
    out.flush()
`;

const EOPNOTSUPP = 95;
/**
 * A request that takes longer than this kills the helper. Its answer is then never
 * trusted, and callers fall back to writing zeroes only after the helper has exited,
 * so a late hole can never land on data written after the fallback.
 */
const REQUEST_TIMEOUT_MS = 30_000;

class HelperError extends Error {
  constructor(readonly errno: number) {
    super(`hole helper error ${errno}`);
  }
}

class Helper {
  private child: ChildProcessByStdio<Writable, Readable, null> | null = null;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (fields: string[]) => void; reject: (e: Error) => void }>();

  private start(): ChildProcessByStdio<Writable, Readable, null> | null {
    if (this.child) return this.child;
    if (this.broken) return null;
    // Debian's interpreter first: a version manager's shim on PATH may be slow to start or absent in services.
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const child = spawn(python, ['-c', HELPER], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', () => this.fail());
    child.on('exit', () => this.fail());
    child.stdin.on('error', () => this.fail());
    createInterface({ input: child.stdout }).on('line', (line) => {
      const fields = line.split(' ');
      const waiter = this.pending.get(Number(fields[0]));
      if (!waiter) return;
      this.pending.delete(Number(fields[0]));
      if (this.pending.size === 0) this.hold(false);
      if (fields[1] === 'E') waiter.reject(new HelperError(Number(fields[2])));
      else waiter.resolve(fields.slice(2));
    });
    this.child = child;
    this.hold(false);
    return child;
  }

  /** An idle helper must never keep the process alive; one with answers outstanding must. */
  private hold(on: boolean): void {
    const child = this.child;
    if (!child) return;
    for (const handle of [child, child.stdin, child.stdout] as unknown as { ref(): void; unref(): void }[]) {
      if (on) handle.ref();
      else handle.unref();
    }
  }

  private fail(): void {
    this.broken = true;
    this.child = null;
    for (const waiter of this.pending.values()) waiter.reject(new HelperError(0));
    this.pending.clear();
  }

  request(op: string, rest: string): Promise<string[]> {
    const child = this.start();
    if (!child) return Promise.reject(new HelperError(0));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.hold(true);
      const timer = setTimeout(() => child.kill('SIGKILL'), REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (fields) => {
          clearTimeout(timer);
          resolve(fields);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin.write(`${id} ${op} ${rest}\n`);
    });
  }
}

let helper: Helper | null = null;
let nextFile = 1;

export interface Extent {
  mapped: boolean;
  /** Byte offset where this extent ends (exclusive); -1 when it runs to the end of the file. */
  end: number;
}

/** The file the caller has open, which the helper must find at the path. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/**
 * Hole operations on one file. Every method reports "not possible" instead of throwing.
 * The helper opens the file (and starts, if it is not running) only when a hole is
 * first asked about, since most volumes are attached and detached without one.
 */
export class FileHoles {
  private punchable = true;
  private seekable = true;
  private opening: Promise<boolean> | null = null;
  private readonly id = nextFile++;
  private readonly path: string;

  /**
   * The path is resolved now, as the caller's working directory stands. The identity is
   * checked when the helper opens it: if the path names another file by then (renamed or
   * replaced), holes are never punched there, and callers write zeroes instead.
   */
  constructor(
    path: string,
    private readonly identity: FileIdentity,
  ) {
    this.path = resolvePath(path);
  }

  private opened(): Promise<boolean> {
    if (!this.opening) {
      if (this.path.includes('\n')) {
        this.opening = Promise.resolve(false);
      } else {
        helper ??= new Helper();
        this.opening = helper.request('O', `${this.id} ${this.identity.dev} ${this.identity.ino} ${this.path}`).then(
          () => true,
          () => false,
        );
      }
    }
    return this.opening;
  }

  /** Deallocates [offset, offset+length). False when that cannot be done here; the caller writes zeroes instead. */
  async punch(offset: number, length: number): Promise<boolean> {
    if (!this.punchable || !(await this.opened())) return false;
    try {
      await helper!.request('P', `${this.id} ${offset} ${length}`);
      return true;
    } catch (e) {
      if (e instanceof HelperError && (e.errno === EOPNOTSUPP || e.errno === 0)) this.punchable = false;
      return false;
    }
  }

  /** The extent that starts at offset, or null when the file system cannot tell. */
  async extent(offset: number): Promise<Extent | null> {
    if (!this.seekable || !(await this.opened())) return null;
    try {
      const [data, hole] = (await helper!.request('S', `${this.id} ${offset}`)).map(Number);
      if (data === offset) return { mapped: true, end: hole };
      return { mapped: false, end: data };
    } catch (e) {
      if (e instanceof HelperError && (e.errno === EOPNOTSUPP || e.errno === 0)) this.seekable = false;
      return null;
    }
  }

  async close(): Promise<void> {
    if (!this.opening || !(await this.opening)) return;
    await helper!.request('C', String(this.id)).catch(() => undefined);
  }
}
