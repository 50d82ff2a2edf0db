//! Reuse of the fused layer's large buffers between calls.
//!
//! A Frappe-sized layer call works on several 34 MB buffers. Allocating them afresh costs more
//! than the arithmetic on them whenever the allocator hands out new pages, which the kernel must
//! fault in and zero (measured: up to 27 ms for one call's buffers, against ~10 ms of work). The
//! pool keeps returned buffers and hands out the smallest one that fits, so after the first step
//! a training run allocates none. It never holds more buffers than were in use at once.

use std::sync::{Mutex, PoisonError};

/// Buffers kept per element type; anything beyond is freed.
const KEEP: usize = 16;

pub trait Element: Copy + Default + Send + 'static {
    fn pool() -> &'static Mutex<Vec<Vec<Self>>>;
}

static F32: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
static U8: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

impl Element for f32 {
    fn pool() -> &'static Mutex<Vec<Vec<f32>>> {
        &F32
    }
}

impl Element for u8 {
    fn pool() -> &'static Mutex<Vec<Vec<u8>>> {
        &U8
    }
}

/// A buffer of `len` elements with unspecified contents: for callers that write every element.
pub fn take<T: Element>(len: usize) -> Vec<T> {
    let mut pool = T::pool().lock().unwrap_or_else(PoisonError::into_inner);
    let best = pool
        .iter()
        .enumerate()
        .filter(|(_, b)| b.capacity() >= len)
        .min_by_key(|(_, b)| b.capacity())
        .map(|(i, _)| i);
    let mut buffer = best.map(|i| pool.swap_remove(i)).unwrap_or_default();
    drop(pool);
    buffer.resize(len, T::default());
    buffer
}

/// A buffer of `len` default (zero) elements.
pub fn zeroed<T: Element>(len: usize) -> Vec<T> {
    let mut buffer = take(len);
    buffer.fill(T::default());
    buffer
}

/// Returns a buffer for reuse.
pub fn give<T: Element>(buffer: Vec<T>) {
    if buffer.capacity() == 0 {
        return;
    }
    let mut pool = T::pool().lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < KEEP {
        pool.push(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_and_zeroed_ones_are_zero() {
        // Sizes no other test in this crate uses, so that parallel tests do not interfere.
        let mut a = take::<u8>(1_234_567);
        a.fill(7);
        let ptr = a.as_ptr();
        give(a);
        let b = zeroed::<u8>(1_234_000);
        assert_eq!(b.as_ptr(), ptr, "the returned buffer is reused");
        assert!(b.iter().all(|&v| v == 0));
        assert_eq!(b.len(), 1_234_000);
        give(b);
        let c = take::<u8>(2_000_000);
        assert_ne!(c.as_ptr(), ptr, "too small a buffer is not handed out");
        assert_eq!(c.len(), 2_000_000);
    }
}
