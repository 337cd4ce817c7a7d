import { MemoryKvStore } from '../../../core/store/kv/memory.ts';
import { kvConformance } from './kv-suite.ts';

kvConformance('memory', { open: async (name) => { await Promise.resolve(); return MemoryKvStore.open(name); }, persistent: false });
