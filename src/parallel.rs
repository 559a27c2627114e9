//! An ordered parallel pipeline: jobs taken in order, worked on by a fixed set of
//! threads (one mutable state each: a token cache, a row buffer), and their outputs
//! handed back in job order on the calling thread. Output therefore never depends on
//! the thread count or on which thread did what.
//!
//! The workers live for the whole run of jobs. Spawning threads per batch instead cost
//! fresh stacks and allocator heaps every time: on this project's 2-core VM, touching
//! that new memory was a third of the scan's wall time.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Mutex;

/// Jobs in flight beyond one per worker: enough to keep every worker busy while the
/// calling thread consumes, few enough to bound the memory in flight.
const IN_FLIGHT_EXTRA: usize = 2;

/// Run `work` on every job of `jobs` on `states.len()` threads and give each output to
/// `consume`, in job order, on this thread. The first error in job order (from `jobs`,
/// `work` or `consume`) stops the run and is returned. With one state (or none) it all
/// runs on this thread.
pub fn ordered<J: Send, O: Send, S: Send>(
    states: &mut [S],
    jobs: impl Iterator<Item = anyhow::Result<J>>,
    work: impl Fn(&mut S, J) -> anyhow::Result<O> + Sync,
    mut consume: impl FnMut(O) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if states.len() <= 1 {
        let Some(state) = states.first_mut() else {
            return Ok(());
        };
        for job in jobs {
            consume(work(state, job?)?)?;
        }
        return Ok(());
    }
    let workers = states.len();
    let (job_sender, job_receiver) = mpsc::channel::<(usize, J)>();
    let job_receiver = Mutex::new(job_receiver);
    let (done_sender, done_receiver) = mpsc::channel::<(usize, anyhow::Result<O>)>();
    std::thread::scope(|scope| {
        for state in states.iter_mut() {
            let (job_receiver, done_sender, work) = (&job_receiver, done_sender.clone(), &work);
            scope.spawn(move || loop {
                // The lock is held only to take a job, never while working on one.
                let next = job_receiver
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .recv();
                let Ok((seq, job)) = next else {
                    return;
                };
                let done =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(state, job)));
                match done {
                    Ok(out) => {
                        if done_sender.send((seq, out)).is_err() {
                            return;
                        }
                    }
                    Err(panic) => {
                        // Tell the consumer (so it does not wait for this output), then
                        // let the panic reach the scope, which re-raises it.
                        let _ = done_sender
                            .send((seq, Err(anyhow::anyhow!("a worker thread panicked"))));
                        std::panic::resume_unwind(panic);
                    }
                }
            });
        }
        drop(done_sender);
        let mut ready: BTreeMap<usize, anyhow::Result<O>> = BTreeMap::new();
        let mut sent = 0;
        let mut consumed = 0;
        // Wait for the next output in order and consume every output that is ready.
        let mut drain = |consumed: &mut usize, until: usize| -> anyhow::Result<()> {
            while *consumed < until {
                while !ready.contains_key(consumed) {
                    let (seq, out) = done_receiver
                        .recv()
                        .expect("a worker stopped while jobs were outstanding");
                    ready.insert(seq, out);
                }
                let out = ready.remove(consumed).expect("the output was just found");
                *consumed += 1;
                consume(out?)?;
            }
            Ok(())
        };
        let result = (|| -> anyhow::Result<()> {
            for job in jobs {
                let job = match job {
                    Ok(job) => job,
                    Err(e) => {
                        // The jobs before this one come first, errors included.
                        drain(&mut consumed, sent)?;
                        return Err(e);
                    }
                };
                job_sender
                    .send((sent, job))
                    .expect("the workers outlive the job sender");
                sent += 1;
                if sent - consumed >= workers + IN_FLIGHT_EXTRA {
                    let next = consumed + 1;
                    drain(&mut consumed, next)?;
                }
            }
            drain(&mut consumed, sent)
        })();
        // Workers finish the job in hand and stop; the scope waits for them.
        drop(job_sender);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(threads: usize, fail_at: Option<u32>) -> (anyhow::Result<()>, Vec<u32>, usize) {
        let mut states = vec![0usize; threads];
        let mut out = Vec::new();
        let result = ordered(
            &mut states,
            (0..1000u32).map(Ok),
            |calls, n| {
                *calls += 1;
                if Some(n) == fail_at {
                    anyhow::bail!("job {n} failed");
                }
                Ok(n * 2)
            },
            |n| {
                out.push(n);
                Ok(())
            },
        );
        (result, out, states.iter().sum())
    }

    #[test]
    fn order_is_kept_whatever_the_thread_count() {
        for threads in [0, 1, 2, 3, 7] {
            let (result, out, calls) = run(threads, None);
            assert!(result.is_ok());
            if threads == 0 {
                assert!(out.is_empty());
                continue;
            }
            assert_eq!(out, (0..1000).map(|n| n * 2).collect::<Vec<_>>());
            assert_eq!(calls, 1000);
        }
    }

    #[test]
    fn a_failing_job_comes_after_the_outputs_before_it() {
        // Jobs 0..100 where taking job 60 fails.
        let jobs = || {
            (0..100u32).map(|n| {
                if n == 60 {
                    anyhow::bail!("reading job {n} failed")
                }
                Ok(n)
            })
        };
        for threads in [1, 2, 5] {
            let mut out = Vec::new();
            let result = ordered(
                &mut vec![(); threads],
                jobs(),
                |_, n| Ok(n),
                |n| {
                    out.push(n);
                    Ok(())
                },
            );
            assert_eq!(result.unwrap_err().to_string(), "reading job 60 failed");
            assert_eq!(out, (0..60).collect::<Vec<_>>(), "{threads} threads");
            // An error of an earlier job's work still comes first.
            let work = |_: &mut (), n: u32| {
                if n == 59 {
                    anyhow::bail!("work {n} failed")
                }
                Ok(n)
            };
            let result = ordered(&mut vec![(); threads], jobs(), work, |_| Ok(()));
            assert_eq!(result.unwrap_err().to_string(), "work 59 failed");
        }
    }

    #[test]
    fn the_first_error_in_order_stops_the_run() {
        for threads in [1, 2, 5] {
            let (result, out, _) = run(threads, Some(500));
            assert_eq!(result.unwrap_err().to_string(), "job 500 failed");
            assert_eq!(out, (0..500).map(|n| n * 2).collect::<Vec<_>>());
        }
    }
}
