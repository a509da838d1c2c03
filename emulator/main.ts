// Stand-alone entry of the emulator CLI (`node --import tsx emulator/main.ts start …`), the same
// commands as `glidepath emulator …` without the rest of the glidepath CLI.
import { emulatorCommand } from './cli.js';

process.exitCode = await emulatorCommand(process.argv.slice(2));
