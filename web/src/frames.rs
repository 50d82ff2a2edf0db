//! The interaction maps of a run as it trains: one frame per evaluation (the weights of that
//! moment) and one for the weights the run kept, so that a class can watch a pair light up and
//! scrub back over the run. Free of the page, so that it is tested natively.

use qnn_maps::InteractionMaps;

/// The maps at one moment of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// What the page says of the moment: the epoch and its validation score.
    pub label: String,
    pub maps: InteractionMaps,
}

/// The frames of the run shown, and which one the heatmap draws.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapFrames {
    pub frames: Vec<Frame>,
    /// The frame chosen on the scrubber; `None` follows the newest.
    chosen: Option<usize>,
}

impl MapFrames {
    /// Adds a frame; the maps to draw now when the scrubber follows the newest frame.
    pub fn push(&mut self, label: String, maps: InteractionMaps) -> Option<&InteractionMaps> {
        self.frames.push(Frame { label, maps });
        if self.chosen.is_none() {
            self.frames.last().map(|f| &f.maps)
        } else {
            None
        }
    }

    /// Chooses frame `index` (the newest one follows what comes next); its maps, to draw.
    pub fn choose(&mut self, index: usize) -> Option<&InteractionMaps> {
        let last = self.frames.len().checked_sub(1)?;
        let index = index.min(last);
        self.chosen = (index < last).then_some(index);
        Some(&self.frames[index].maps)
    }

    /// The index of the frame drawn.
    pub fn shown(&self) -> Option<usize> {
        self.chosen.or_else(|| self.frames.len().checked_sub(1))
    }

    pub fn label(&self) -> Option<&str> {
        Some(self.frames.get(self.shown()?)?.label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_maps::{FieldMatrix, HeadMaps, LayerMaps};

    fn maps(v: f64) -> InteractionMaps {
        InteractionMaps {
            field_names: vec!["a".into()],
            layers: vec![LayerMaps {
                heads: vec![HeadMaps {
                    weight: FieldMatrix {
                        size: 1,
                        values: vec![v],
                    },
                    activation: None,
                }],
            }],
        }
    }

    #[test]
    fn new_frames_are_drawn_while_following_and_kept_while_scrubbing() {
        let mut frames = MapFrames::default();
        assert_eq!((frames.shown(), frames.label()), (None, None));
        assert_eq!(frames.choose(0), None);
        assert_eq!(frames.push("epoch 1".into(), maps(1.0)), Some(&maps(1.0)));
        assert_eq!(frames.push("epoch 2".into(), maps(2.0)), Some(&maps(2.0)));
        assert_eq!(frames.shown(), Some(1));
        // Scrubbing back holds that frame while training goes on.
        assert_eq!(frames.choose(0), Some(&maps(1.0)));
        assert_eq!(frames.push("epoch 3".into(), maps(3.0)), None);
        assert_eq!(frames.label(), Some("epoch 1"));
        // Back on the newest frame, it follows again; an index past the end is the newest.
        assert_eq!(frames.choose(9), Some(&maps(3.0)));
        assert_eq!(frames.push("final".into(), maps(4.0)), Some(&maps(4.0)));
        assert_eq!((frames.shown(), frames.label()), (Some(3), Some("final")));
    }
}
