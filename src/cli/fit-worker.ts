/**
 * A training job ({@link TrainJob}) in a worker thread, so that the main thread stays idle while the
 * run trains, evaluates, draws and writes: it redraws the progress bar and, above all, answers signals
 * at once. (`tsx` and `npm run` relay a Ctrl-C to the child and kill it when it does not answer within
 * tens of milliseconds; a main thread busy with training or writing could not.) The main thread stops
 * the run through a shared flag that the job reads after every step.
 *
 * When a worker cannot be started, the job runs in this thread instead (and a Ctrl-C then ends the
 * process, losing the work since the last checkpoint).
 *
 * @module
 */

import { runJobInWorker, serveJob } from './job-worker.ts';
import { runTrainJob, type JobMessage, type JobOutcome, type TrainJob } from './train-job.ts';

const KIND = 'flowgrad-train';

/**
 * Runs `job` in a worker thread; `onMessage` receives its progress. Rejects with the job's error,
 * rebuilt with its class (a CliError stays a CliError).
 *
 * @example const outcome = await runInWorker(job, (m) => m.type === 'epoch' && progress.epoch(m.info));
 */
export async function runInWorker(job: TrainJob, onMessage: (message: JobMessage) => void): Promise<JobOutcome> {
  return runJobInWorker(import.meta.url, KIND, job, onMessage, () => runTrainJob(job, onMessage));
}

serveJob(KIND, (job: TrainJob, post: (message: JobMessage) => void) => runTrainJob(job, post));
