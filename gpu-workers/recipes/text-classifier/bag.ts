/** The embedding-bag inputs live in contracts/ (graphs/ builds them at planning time too); see ../../../contracts/embedding-bag.ts. */
export * from '../../../contracts/embedding-bag.ts';
