/** The in-memory persistence class of aedes-persistence, loaded by its file path. */
declare module 'aedes-persistence/asyncPersistence.js' {
  const MemoryPersistence: unknown;
  export default MemoryPersistence;
}
