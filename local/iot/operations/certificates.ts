/**
 * Certificates (AWS IoT API Reference: CreateCertificateFromCsr, CreateKeysAndCertificate,
 * DescribeCertificate, UpdateCertificate, ListCertificates, DeleteCertificate).
 */
import { invalidRequest } from '../errors';
import type { StoredCertificate } from '../types';
import { label, type Operation, ok, queryBool, queryInt, seconds, str, withToken } from './binding';

const certificateSummary = (c: StoredCertificate) => ({
  certificateArn: c.certificateArn,
  certificateId: c.certificateId,
  status: c.status,
  certificateMode: 'DEFAULT',
  creationDate: seconds(c.creationDate),
});

export const CERTIFICATE_OPERATIONS: readonly Operation[] = [
  {
    name: 'CreateCertificateFromCsr',
    method: 'POST',
    segments: ['certificates'],
    handle: async (ctx) =>
      ok(
        await ctx.registry.createCertificateFromCsr(
          str(ctx.body(), 'certificateSigningRequest', true) ?? '',
          queryBool(ctx.req, 'setAsActive') ?? false,
        ),
      ),
  },
  {
    name: 'CreateKeysAndCertificate',
    method: 'POST',
    segments: ['keys-and-certificate'],
    handle: async (ctx) =>
      ok(await ctx.registry.createKeysAndCertificate(queryBool(ctx.req, 'setAsActive') ?? false)),
  },
  {
    name: 'DescribeCertificate',
    method: 'GET',
    segments: ['certificates', '{}'],
    handle: (ctx) => {
      const c = ctx.registry.describeCertificate(label(ctx, 0));
      return ok({
        certificateDescription: {
          certificateArn: c.certificateArn,
          certificateId: c.certificateId,
          status: c.status,
          certificatePem: c.certificatePem,
          ownedBy: c.certificateArn.split(':')[4],
          creationDate: seconds(c.creationDate),
          lastModifiedDate: seconds(c.lastModifiedDate),
          customerVersion: 1,
          generationId: c.generationId,
          validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) },
          certificateMode: 'DEFAULT',
        },
      });
    },
  },
  {
    name: 'UpdateCertificate',
    method: 'PUT',
    segments: ['certificates', '{}'],
    handle: (ctx) => {
      const status = ctx.req.query.get('newStatus');
      if (!status) throw invalidRequest('newStatus is required');
      ctx.registry.updateCertificate(label(ctx, 0), status);
      return ok();
    },
  },
  {
    name: 'ListCertificates',
    method: 'GET',
    segments: ['certificates'],
    handle: ({ req, registry }) => {
      const page = registry.listCertificates(
        req.query.get('marker') ?? undefined,
        queryInt(req, 'pageSize'),
        queryBool(req, 'isAscendingOrder') ?? false,
      );
      return ok({ certificates: page.items.map(certificateSummary), ...withToken('nextMarker', page.next) });
    },
  },
  {
    name: 'DeleteCertificate',
    method: 'DELETE',
    segments: ['certificates', '{}'],
    handle: (ctx) => {
      ctx.registry.deleteCertificate(label(ctx, 0), queryBool(ctx.req, 'forceDelete') ?? false);
      return ok();
    },
  },
];
