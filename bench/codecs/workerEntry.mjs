// Worker threads do not inherit the parent's TS loader on Node 20: register tsx, then load the TS body.
import { register } from 'tsx/esm/api';

register();
await import('./workerMain.ts');
