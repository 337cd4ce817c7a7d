/** A data file Coulomb will not use as it is; the message names the file and what to do. */
export class DataFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'DataFileError';
  }
}
