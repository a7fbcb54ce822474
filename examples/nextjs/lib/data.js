// 1 MiB of every byte value (not UTF-8), and 5 MiB of text.
export const DOWNLOAD = Buffer.alloc(1 << 20);
for (let i = 0; i < DOWNLOAD.length; i++) DOWNLOAD[i] = i % 251;

const LINE = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
export const LARGE = LINE.repeat(Math.ceil((5 << 20) / LINE.length)).slice(0, 5 << 20);
