/**
 * Prints the self-time summary of a `.cpuprofile`:
 *   npx tsx bench/profile.ts <file.cpuprofile> [top] [skipMs]
 */
import { formatProfile, summarizeProfile } from './lib/cpuprofile.js';

const [path, top, skip] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
process.stdout.write(
  `${formatProfile(summarizeProfile(path, Number(top) || 25, Number(skip) || 0), path)}\n`,
);
