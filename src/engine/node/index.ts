/** The engine's Node-only front door (the CLI, the scripts): files and images read from disk, PNGs written. */
export { filesFromPaths } from './files';
export { decodeImageBytes, decodeImageFile, encodePng, withExifOrientation } from './image';
export { fsError, walkFiles } from './safe-fs';
