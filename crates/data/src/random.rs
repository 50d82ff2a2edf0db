//! One run seed, one independent random stream per purpose.
//!
//! A run's seed decides the row split, each epoch's shuffle and the initial weights. Seeding each
//! of them with the bare seed would make them all read the same ChaCha8 keystream: the first
//! epoch's order and the first weights would be drawn from the same bits, so they would be
//! correlated. ChaCha8 gives every key 2⁶⁴ streams that do not overlap; each purpose takes its
//! own. (Dropout masks come from a counter-based generator keyed by the seed and the step,
//! `qnn_model::dropout`, so that GPU kernels can draw them too.)

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The random train/valid/test split of a single CSV.
    Split,
    /// The model's initial weights.
    Init,
    /// The row order of one epoch; one stream per epoch so that resuming at an epoch
    /// reproduces its order.
    Shuffle { epoch: usize },
}

impl Purpose {
    fn stream(self) -> u64 {
        // Shuffles take the streams from 2³² upwards so that no epoch count reaches the others.
        match self {
            Purpose::Split => 1,
            Purpose::Init => 2,
            Purpose::Shuffle { epoch } => (1 << 32) + epoch as u64,
        }
    }
}

/// The random stream of `seed` for `purpose`.
pub fn stream(seed: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose.stream());
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    fn first_words(seed: u64, purpose: Purpose) -> Vec<u32> {
        let mut rng = stream(seed, purpose);
        (0..64).map(|_| rng.next_u32()).collect()
    }

    #[test]
    fn purposes_of_one_seed_draw_different_bits() {
        let purposes = [
            Purpose::Split,
            Purpose::Init,
            Purpose::Shuffle { epoch: 0 },
            Purpose::Shuffle { epoch: 1 },
        ];
        let words: Vec<Vec<u32>> = purposes.iter().map(|&p| first_words(2024, p)).collect();
        let mut bare = ChaCha8Rng::seed_from_u64(2024);
        let bare: Vec<u32> = (0..64).map(|_| bare.next_u32()).collect();
        for i in 0..words.len() {
            for j in i + 1..words.len() {
                assert_ne!(
                    words[i], words[j],
                    "{:?} and {:?}",
                    purposes[i], purposes[j]
                );
            }
            assert_ne!(
                words[i], bare,
                "{:?} reads the bare seed's stream",
                purposes[i]
            );
        }
    }

    #[test]
    fn a_purpose_is_reproducible_and_depends_on_the_seed() {
        assert_eq!(first_words(7, Purpose::Init), first_words(7, Purpose::Init));
        assert_ne!(first_words(7, Purpose::Init), first_words(8, Purpose::Init));
    }
}
