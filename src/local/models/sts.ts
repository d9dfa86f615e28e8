import { ServiceModel, type OpHandler } from "../service.js";

/**
 * STS as chatctl needs it: who am I (the account id goes into derived ARNs).
 *
 * Not modelled: AssumeRole, session tokens, federation, and any checking of the
 * caller's credentials (every caller is the same identity).
 */

export interface StsModelOptions {
  readonly accountId: string;
  /** The caller's identity; the account root unless given. */
  readonly arn?: string;
  readonly userId?: string;
}

export class StsModel extends ServiceModel {
  readonly service = "sts";
  readonly accountId: string;
  private readonly arn: string;
  private readonly userId: string;

  constructor(opts: StsModelOptions) {
    super();
    this.accountId = opts.accountId;
    this.arn = opts.arn ?? `arn:aws:iam::${opts.accountId}:root`;
    this.userId = opts.userId ?? opts.accountId;
  }

  protected readonly operations: Readonly<Record<string, OpHandler>> = {
    GetCallerIdentity: () => ({ UserId: this.userId, Account: this.accountId, Arn: this.arn }),
  };
}
