import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>>;

/**
 * `parseArgs`, with two differences that matter for values this CLI prints and reads back:
 * a string option always takes the next word as its value, even one starting with `-` (epochs are
 * base64url, so `--since -q8LV-fl:2` happens for about 1 epoch in 64), and a word like `-1` or
 * `-0.5` is a positional (`pub ch -1`), not an unknown option.
 */
export function parseCommandLine<T extends Options>(argv: readonly string[], options: T): Parsed<T> {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i] as string;
    if (word === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const long = /^--([^=]+)$/.exec(word);
    if (long && options[long[1] as string]?.type === 'string' && i + 1 < argv.length) {
      flags.push(`${word}=${argv[i + 1]}`);
      i += 1;
    } else if (/^-\d|^-\.\d/.test(word)) positionals.push(word);
    else if (word.startsWith('-') && word !== '-') flags.push(word);
    else positionals.push(word);
  }
  return parseArgs({ args: [...flags, '--', ...positionals], options, allowPositionals: true });
}
