//! The one worker pool: `n` items on at most `jobs` threads, each thread with state of its own
//! (a connection, usually) made once when the thread starts. Items are taken in the order given,
//! so callers put the largest first. It knows nothing of what the items are.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work(i, state)` for every `i` below `n` on at most `jobs` threads and returns the
/// results in item order. Each thread first calls `start`: `None` means that thread cannot
/// work (its connection failed, say) and leaves the items to the others, so an item is `None`
/// only when no thread could start. A panic in `work` is propagated once all threads stop.
pub fn run<S, T: Send>(
    n: usize,
    jobs: usize,
    start: &(dyn Fn() -> Option<S> + Sync),
    work: &(dyn Fn(usize, &mut S) -> T + Sync),
) -> Vec<Option<T>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    if n == 0 {
        return Vec::new();
    }
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, n) {
            s.spawn(|| {
                let Some(mut state) = start() else { return };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let r = work(i, &mut state);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// [`run`] with threads that need no state of their own: every item gets a result.
pub fn map<T: Send>(n: usize, jobs: usize, work: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    run(n, jobs, &|| Some(()), &|i, _| work(i))
        .into_iter()
        .map(|r| r.expect("a thread without state always starts"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[test]
    fn every_item_runs_once_and_results_keep_item_order() {
        let seen = Mutex::new(Vec::new());
        let out = map(100, 4, &|i| {
            seen.lock().unwrap().push(i);
            i * 2
        });
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        let seen: HashSet<usize> = seen.into_inner().unwrap().into_iter().collect();
        assert_eq!(seen.len(), 100);
    }

    #[test]
    fn threads_that_cannot_start_leave_their_items_to_the_others() {
        let started = AtomicUsize::new(0);
        let out = run(
            10,
            3,
            &|| (started.fetch_add(1, Ordering::SeqCst) != 0).then_some(7),
            &|i, state: &mut i32| i32::try_from(i).unwrap() + *state,
        );
        assert!(out.iter().all(Option::is_some), "{out:?}");
    }

    #[test]
    fn no_thread_starts_no_item_runs() {
        let out = run(3, 2, &|| None::<()>, &|i, _| i);
        assert_eq!(out, vec![None, None, None]);
    }

    #[test]
    fn no_items_no_threads() {
        assert!(map(0, 4, &|i| i).is_empty());
    }
}
