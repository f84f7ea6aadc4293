// `dsllm train`: pretraining with the paper's recipe. See src/train/trainer.ts for the loop.
import type { Command } from 'commander';
import { selectBackend } from '../backends/select.js';
import { train } from '../train/trainer.js';
import { UserError } from './errors.js';

const int = (v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new UserError(`expected a non-negative integer, got "${v}"`); return n; };
const num = (v: string) => { const n = Number(v); if (!Number.isFinite(n) || n <= 0) throw new UserError(`expected a positive number, got "${v}"`); return n; };

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('pretrain a DeepSeek-architecture model (AdamW 0.9/0.95, wd 0.1, clip 1.0, warmup + multi-step LR)')
    .requiredOption('-c, --config <spec>', 'preset name, config.json or model directory')
    .option('-d, --data <paths...>', 'text files (one document each, EOS between them; the last 10% held out), or token shards: directories or .bin files (validation from val*.bin, else the last 10% of the last shard)')
    .option('-t, --tokenizer <file>', 'tokenizer.json, .gguf or tiktoken file: tokenizes text files on the fly, gives shards their bytes per token (default: byte-level)')
    .option('-o, --out <dir>', 'run directory (log.jsonl, checkpoints/, loss.svg, lr.svg)', 'runs/train')
    .option('--dtype <d>', 'bf16 (bf16 matmuls, fp32 master weights and gradients) or f32', 'f32')
    .option('--steps <n>', 'optimizer steps', int)
    .option('--compute <flops>', 'compute budget C = M·D in FLOPs: sets tokens, η_opt = 0.3118·C^−0.125, B_opt = 0.2920·C^0.3271', num)
    .option('--batch <n>', 'sequences per micro-batch', int)
    .option('--seq-len <n>', 'sequence length', int)
    .option('--grad-accum <n>', 'micro-batches per step', int)
    .option('--lr <lr>', 'peak learning rate', num)
    .option('--warmup <n>', 'warmup steps (default 5% of the run, at most 2000)', int)
    .option('--schedule <s>', 'multistep (80%: ×0.316, 90%: ×0.1) or cosine', 'multistep')
    .option('--eval-every <n>', 'validation every N steps', int)
    .option('--eval-batches <n>', 'validation micro-batches', int)
    .option('--checkpoint-minutes <m>', 'checkpoint interval in minutes', num, 5)
    .option('--checkpoint-every <n>', 'also checkpoint every N steps', int)
    .option('--keep <n>', 'checkpoints kept', int, 3)
    .option('--resume [checkpoint]', 'continue from the latest checkpoint of --out (or the given one); with --steps, extend the run')
    .option('--vocab-size <n>', 'override the config\'s vocabulary size', int)
    .option('--seed <n>', 'random seed', int, 1337)
    .option('--quiet', 'no progress display')
    .action(async (o) => {
      await selectBackend();
      if (!o.data && !o.resume) throw new UserError('--data is required (text files or token shards) unless --resume');
      if (o.schedule !== 'multistep' && o.schedule !== 'cosine') throw new UserError(`--schedule must be multistep or cosine, got "${o.schedule}"`);
      if (o.dtype !== 'f32' && o.dtype !== 'bf16') throw new UserError(`--dtype must be f32 or bf16, got "${o.dtype}"`);
      const r = train({ ...o, data: o.data ?? [], resume: o.resume });
      process.stdout.write(JSON.stringify(r) + '\n');
    });
}
