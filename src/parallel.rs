//! Order-preserving parallel map over a slice, on scoped threads: each thread takes one
//! contiguous chunk, and results come back in input order, so output never depends on
//! the thread count.

/// Map `items` with `f` on up to `threads` threads, keeping order.
pub fn map_ordered<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    map_ordered_with(items, &mut vec![(); threads.max(1)], |_, t| f(t))
}

/// Like `map_ordered`, with one mutable state per thread (a token cache, say).
pub fn map_ordered_with<T: Sync, S: Send, R: Send>(
    items: &[T],
    states: &mut [S],
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R> {
    let threads = states.len().max(1);
    if threads <= 1 || items.len() < 32 {
        return match states.first_mut() {
            Some(state) => items.iter().map(|t| f(state, t)).collect(),
            None => Vec::new(),
        };
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .zip(states.iter_mut())
            .map(|(c, state)| {
                let f = &f;
                s.spawn(move || c.iter().map(|t| f(state, t)).collect::<Vec<R>>())
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_whatever_the_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [1, 2, 3, 7] {
            assert_eq!(
                map_ordered(&items, threads, |x| x * 2),
                map_ordered(&items, 1, |x| x * 2)
            );
            let mut states = vec![0u32; threads];
            let out = map_ordered_with(&items, &mut states, |s, x| {
                *s += 1;
                x + 1
            });
            assert_eq!(out, (1..1001).collect::<Vec<_>>());
            assert_eq!(states.iter().sum::<u32>(), 1000);
        }
    }
}
