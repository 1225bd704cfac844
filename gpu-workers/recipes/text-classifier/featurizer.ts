/** The text featurizer lives in contracts/ (graphs/ runs it at planning time too); see ../../../contracts/text-featurizer.ts. */
export * from '../../../contracts/text-featurizer.ts';
