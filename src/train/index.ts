/** `wasmzoo.optim`: optimizers and learning-rate schedules with torch.optim's rules. */
export { Optimizer, SGD, Adam, AdamW, StepLR, CosineAnnealingLR, type SGDOptions, type AdamOptions, type LRScheduler } from './optim.js';
