// `npm run dev`: the API and one worker as two child processes sharing this terminal; Ctrl-C stops both.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const entry = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [entry('./server.js'), entry('./worker/main.js')].map((file) =>
  spawn(process.execPath, [file], { stdio: 'inherit' }),
);

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve))))).then(
    () => process.exit(code),
  );
}
for (const child of children) child.once('exit', (code) => stop(code ?? 1));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
