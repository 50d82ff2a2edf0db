//! Work split over columns: on every core where the `parallel` feature is on (native builds),
//! in order on one thread otherwise (the browser's worker). Results come back in column order,
//! so both give the same output.

/// `f(0), f(1), …, f(n - 1)`.
pub fn map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// `f(&mut items[i], i)` for every item.
pub fn for_each_mut<T: Send>(items: &mut [T], f: impl Fn(&mut T, usize) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter_mut().enumerate().for_each(|(i, t)| f(t, i));
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter_mut().enumerate().for_each(|(i, t)| f(t, i));
    }
}
