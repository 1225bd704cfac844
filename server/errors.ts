/** The error taxonomy lives in contracts/ (workers share it); the server's modules import it from here. */
export * from '../contracts/errors.ts';
