#!/usr/bin/env node
// `npx litepix …`: runs the TypeScript CLI through tsx's loader (no separate build step).
import { register } from 'tsx/esm/api';

register();
await import('../cli/litepix.ts');
