import * as z from 'zod';
import { ToolInputError } from '../src/errors.js';
import { JOB_ID_RE } from '../src/jobs/runner.js';
import { jobOwner } from '../src/jobs/store.js';
import { defineTool } from './types.js';

/**
 * The explicit stop of a job. A client giving up on a call never stops its work (the next call attaches to
 * it); this does, for read-only work. Work that writes was approved whole: stopping an offboarding halfway
 * would leave some accounts done and its plan interrupted, so such a job runs to its end.
 */
export default defineTool({
  name: 'cancel_job',
  vendor: null,
  toolsets: ['workflows'],
  title: 'Stop a running job',
  description:
    'Stops a read-only job (a listing, an access review) that answered status "running", when the user no longer wants it. A job that writes runs to its end: the human approved it whole. Only the session that started a job can stop it; a client timeout never stops one.',
  inputSchema: {
    target_job_id: z.string().regex(JOB_ID_RE).describe('The job.id of the running call to stop, e.g. "job_3q2…"'),
  },
  outputSchema: {
    job_id: z.string().describe('The job'),
    tool: z.string().describe('The tool whose work it is'),
    cancelled: z.boolean().describe('True when the work was told to stop (it ends at its next vendor request)'),
    state: z.enum(['running', 'done', 'failed']).describe('The job\'s state when this answered'),
    reason: z.string().nullable().describe('Why it was not stopped; null when it was'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const job = await ctx.deps.jobs.view(args.target_job_id);
    if (!job || job.owner !== jobOwner(ctx.session)) {
      throw new ToolInputError(`No job ${args.target_job_id} in this session (a job belongs to the session that started it, and finished ones are kept a day).`);
    }
    const base = { job_id: job.id, tool: job.tool };
    if (job.state !== 'running') return { ...base, cancelled: false, state: job.state, reason: 'It had already finished; its result can be picked up with job_id.' };
    if (job.writes) {
      return { ...base, cancelled: false, state: job.state, reason: `${job.tool} writes: approved work runs to its end rather than stop halfway. Pick its result up by calling ${job.tool} with job_id.` };
    }
    await ctx.deps.jobs.cancel(job.id);
    return { ...base, cancelled: true, state: job.state, reason: null };
  },
});
