/**
 * busbench's data model: the types of scenarios, results, limit searches,
 * campaigns and the control protocol between coordinator and workers, with
 * the few constants they are derived from. Nothing here imports anything of
 * busbench outside src/model; everything else imports these from here.
 */
export * from './metrics.js';
export * from './network.js';
export * from './topology.js';
export * from './scenario.js';
export * from './bus.js';
export * from './control.js';
export * from './results.js';
export * from './limit.js';
export * from './campaign.js';
