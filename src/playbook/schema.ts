// What a playbook file may say. Strict: an unknown key in a playbook is a typo, not a feature.
import { z } from 'zod';
import { DURATION_PATTERN } from '../inventory/duration.js';

const stepId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'step ids are lower-case letters, digits and dashes');

export const fileSchema = z
  .object({
    path: z.string().regex(/^\/[A-Za-z0-9._\/-]+$/, 'an absolute path of letters, digits, ".", "_", "-" and "/"'),
    template: z.string().min(1),
    mode: z
      .string()
      .regex(/^0[0-7]{3}$/, 'an octal mode like "0644"')
      .optional(),
    validate: z.string().min(1).optional(),
  })
  .strict();

export const bundleKind = z.enum(['containerd', 'kubernetes', 'images', 'cri-tools', 'cni-plugins', 'os-packages']);
export type BundleKind = z.infer<typeof bundleKind>;

export const whenSchema = z
  .object({
    role: z.enum(['control-plane', 'worker']).optional(),
    has: z.enum(['images', 'kubernetes-bundle', 'registry-mirrors', 'cri-tools', 'cni-plugins', 'control-plane-vip']).optional(),
  })
  .strict();

export const stepSchema = z
  .object({
    id: stepId,
    title: z.string().min(1),
    when: whenSchema.optional(),
    bundles: z.array(bundleKind).optional(),
    /** Send the bundles only when the step's check fails (a bundle the host may not need at all). */
    bundlesIfNeeded: z.boolean().optional(),
    files: z.array(fileSchema).optional(),
    generated: z.enum(['registry-hosts']).optional(),
    check: z.string().min(1).optional(),
    run: z.string().min(1).optional(),
    verify: z.string().min(1).optional(),
    verifyOnly: z.boolean().optional(),
    rollback: z.boolean().optional(),
    /**
     * `kubeforge reset`: undoes what `run` did beyond the step's files (which reset removes
     * itself), e.g. the binaries a bundle put in place. Runs under `sh -eu` with the step's values.
     */
    reset: z.string().min(1).optional(),
    timeout: z.string().regex(DURATION_PATTERN, 'a duration like "90s", "5m" or "1m30s"').optional(),
  })
  .strict()
  .refine((s) => !s.verifyOnly || (s.verify && !s.run && !s.files && !s.bundles), {
    message: 'a verifyOnly step has only `verify` (no run, files or bundles)',
  })
  .refine((s) => s.verifyOnly || s.run || s.files || s.bundles || s.generated, {
    message: 'a step needs `run`, `files`, `bundles` or `generated` (or is verifyOnly)',
  });

export const playbookSchema = z
  .object({
    name: stepId,
    description: z.string().optional(),
    steps: z.array(stepSchema).min(1),
  })
  .strict();

export type PlaybookFile = z.infer<typeof playbookSchema>;
export type StepDef = z.infer<typeof stepSchema>;
export type FileDef = z.infer<typeof fileSchema>;
