export * from './channel.js';
export * from './codec.js';
export * from './codes.js';
export * from './data.js';
export * from './frames.js';
export * from './msgpack-subset.js';
export * from './version.js';
