// Every diagnostic code, one table. Tests match on codes, so wording can improve freely.

export const codes = {
  E0101: 'unexpected character',
  E0102: 'unterminated string',
  E0110: 'syntax error',
  E0111: 'nesting too deep',
  E0201: 'unknown name',
  E0202: 'unknown layer or block',
  E0203: 'wrong arguments',
  E0204: 'wrong argument type',
  E0205: 'recursive block',
  E0206: 'duplicate definition',
  E0207: 'misplaced statement',
  E0208: 'no model',
  E0209: 'invalid train section',
  E0210: 'invalid expression',
  E0211: 'value out of range',
  E0212: 'duplicate parameter name',
  E0213: 'model computes nothing to train',
  E0219: 'block calls nested too deeply',
  E0230: 'invalid tensor literal',
  E0231: 'tensor shape mismatch',
  E0232: 'tensor index out of range',
  E0301: 'wrong input rank',
  E0302: 'kernel larger than input',
  E0303: 'shape mismatch',
  E0304: 'empty tensor',
  E0305: 'channels not divisible by groups',
  E0306: 'tensor too large',
  E0307: 'batch norm trained on 1 value per channel',
  E0401: 'exceeds a device limit',
  // Warnings: the model compiles and trains, but probably not as meant.
  W0201: 'unused value',
  W0202: 'implicit chain input',
} as const;

export type DiagCode = keyof typeof codes;
