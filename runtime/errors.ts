// Errors caused by the user's input (a flag, a data file, a checkpoint): the CLI prints the message
// alone and exits 1. Any other exception is a cnnc bug.
export class UserError extends Error {}
