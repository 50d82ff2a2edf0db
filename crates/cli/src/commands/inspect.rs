//! `qnn inspect --model FILE [--data CSV [--row N]]`: interaction maps (design.md) as a table,
//! CSV, JSON or an SVG heatmap; with `--row`, the activation map's decomposition applied to one
//! row: what each field pair contributes to that row's product terms.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use qnn_data::{CHUNK_ROWS, EncodedDataset};
use qnn_model::{FieldMatrix, InteractionMaps, ModelInput, interaction_maps};

use crate::commands::evaluate::load_model;
use crate::data;
use crate::device::DeviceArg;
use crate::files::{refuse_overwriting_inputs, write_atomic};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable tables, one per layer, head and view.
    Table,
    /// One row per (layer, head, view, field pair).
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A model file written by `qnn train` or the browser trainer.
    #[arg(long)]
    pub model: PathBuf,
    /// CSV (or parquet file) to compute activation maps on (weight maps need no data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Rows of --data to use (the first ones).
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
    /// Explain one row of --data (1 = the first data row): the activation maps of that row
    /// alone, and its prediction.
    #[arg(long, requires = "data", conflicts_with = "rows")]
    pub row: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the table/CSV/JSON here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write an SVG heatmap of every map.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

pub fn run(args: Args) -> Result<()> {
    let mut inputs = vec![("--model", args.model.as_path())];
    inputs.extend(args.data.as_deref().map(|d| ("--data", d)));
    for output in [("--out", &args.out), ("--svg", &args.svg)] {
        if let (flag, Some(path)) = output {
            refuse_overwriting_inputs((flag, path), &inputs)?;
        }
    }
    let loaded = load_model(&args.model, args.device)?;
    let mut explained = None;
    let input = match (&args.data, args.row) {
        (Some(path), Some(row)) => {
            let data = one_row(&loaded.file.feature_map, path, row)?;
            let prediction = pollster::block_on(qnn_train::predict(
                &loaded.model,
                &loaded.layout,
                &data,
                1,
                &loaded.device,
            ))?[0];
            explained = Some(format!(
                "row {row} of {}: {} {prediction:.6}",
                path.display(),
                loaded.layout.task.prediction_column()
            ));
            Some(ModelInput::new(
                &data.range(0, 1),
                &loaded.layout,
                &loaded.device,
            )?)
        }
        (Some(path), None) => {
            // The first --rows rows: the first chunk of that size.
            let mut chunks =
                data::EncodedChunks::open(&loaded.file.feature_map, path, false, args.rows)?;
            let data = chunks.next().expect("a first chunk or an error")?;
            Some(ModelInput::new(
                &data.range(0, data.len()),
                &loaded.layout,
                &loaded.device,
            )?)
        }
        (None, _) => None,
    };
    let Some(qnn) = loaded.model.as_qnn() else {
        bail!(
            "{}: a {} network has no interaction maps (QNN's quadratic layers have them)",
            args.model.display(),
            loaded.file.config.name()
        );
    };
    let maps = pollster::block_on(interaction_maps(qnn, input.as_ref()))?;
    let text = match args.format {
        Format::Table => match &explained {
            Some(row) => format!(
                "{row}\nactivation maps of this row alone: |product piece| of each field pair\n\n{}",
                table(&maps)
            ),
            None => table(&maps),
        },
        Format::Csv => csv(&maps),
        Format::Json => serde_json::to_string_pretty(&maps)? + "\n",
    };
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    if let Some(path) = &args.svg {
        write_atomic(path, svg(&maps).as_bytes())
            .with_context(|| format!("cannot write the heatmap {}", path.display()))?;
    }
    Ok(())
}

/// Data row `row` (1-based) of `path`, encoded, read a chunk at a time.
fn one_row(map: &qnn_data::FeatureMap, path: &Path, row: usize) -> Result<EncodedDataset> {
    if row == 0 {
        bail!("--row counts data rows from 1 (the first row after the header)");
    }
    let mut seen = 0;
    for chunk in data::EncodedChunks::open(map, path, false, row.min(CHUNK_ROWS))? {
        let chunk = chunk?;
        if row <= seen + chunk.len() {
            let i = row - seen - 1;
            return Ok(chunk.slice(i, i + 1));
        }
        seen += chunk.len();
    }
    bail!("--row {row}: {} has only {seen} data rows", path.display())
}

/// Every map of the model: (layer, head, view, matrix), 1-based layer and head.
fn panels(maps: &InteractionMaps) -> Vec<(usize, usize, &'static str, &FieldMatrix)> {
    let mut out = Vec::new();
    for (l, layer) in maps.layers.iter().enumerate() {
        for (h, head) in layer.heads.iter().enumerate() {
            out.push((l + 1, h + 1, "weight", &head.weight));
            if let Some(a) = &head.activation {
                out.push((l + 1, h + 1, "activation", a));
            }
        }
    }
    out
}

fn table(maps: &InteractionMaps) -> String {
    let names = &maps.field_names;
    let width = names
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(4)
        .clamp(6, 14);
    let mut s = String::new();
    for (layer, head, view, m) in panels(maps) {
        let what = if view == "weight" {
            "mean |W| (row: multiplied field, column: input field)"
        } else {
            "mean |product piece| on the data"
        };
        let _ = writeln!(s, "layer {layer}, head {head}, {view} map: {what}");
        let _ = write!(s, "{:>width$}", "");
        for n in names {
            let _ = write!(s, " {:>width$}", clip(n, width));
        }
        s.push('\n');
        for (a, n) in names.iter().enumerate() {
            let _ = write!(s, "{:>width$}", clip(n, width));
            for b in 0..m.size {
                let _ = write!(s, " {:>width$.4}", m.get(a, b));
            }
            s.push('\n');
        }
        s.push('\n');
    }
    let (view, total) = match maps.total_activation() {
        Some(t) => ("activation", t),
        None => ("weight", maps.total_weight()),
    };
    let _ = writeln!(
        s,
        "strongest field pairs ({view}, summed over layers and heads):"
    );
    let mut pairs: Vec<(usize, usize, f64)> = (0..total.size)
        .flat_map(|a| (a + 1..total.size).map(move |b| (a, b)))
        .map(|(a, b)| (a, b, total.get(a, b) + total.get(b, a)))
        .collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2));
    for (a, b, v) in pairs.into_iter().take(10) {
        let _ = writeln!(s, "  {:<28} {v:.4}", format!("{} × {}", names[a], names[b]));
    }
    s
}

fn clip(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        name.to_string()
    } else {
        name.chars().take(width - 1).chain(['…']).collect()
    }
}

fn csv(maps: &InteractionMaps) -> String {
    let mut s = String::from("layer,head,view,row_field,column_field,value,row_normalized\n");
    for (layer, head, view, m) in panels(maps) {
        let norm = m.row_normalized();
        for a in 0..m.size {
            for b in 0..m.size {
                let _ = writeln!(
                    s,
                    "{layer},{head},{view},{},{},{},{}",
                    csv_field(&maps.field_names[a]),
                    csv_field(&maps.field_names[b]),
                    m.get(a, b),
                    norm.get(a, b)
                );
            }
        }
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One heatmap per panel, stacked; the shades run from 0 to the panel's largest pair (a field
/// with itself may lie beyond: dashed, as in the page), each cell's tooltip is its value.
fn svg(maps: &InteractionMaps) -> String {
    let names = &maps.field_names;
    let n = names.len();
    let cell = 28.0;
    let label = 8.0 * names.iter().map(|s| s.len().min(16)).max().unwrap_or(4) as f64 + 12.0;
    let panel_h = label + cell * n as f64 + 56.0;
    let panels = panels(maps);
    // The last column's name, slanted, reaches past the grid.
    let width = label * 1.5 + cell * n as f64 + 20.0;
    let height = panel_h * panels.len() as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    for (i, (layer, head, view, m)) in panels.iter().enumerate() {
        let top = i as f64 * panel_h;
        let _ = write!(
            s,
            r#"<text x="4" y="{}" font-size="13" font-weight="bold">layer {layer}, head {head}: {view} map</text>"#,
            top + 16.0
        );
        let grid_top = top + 24.0 + label;
        for (b, name) in names.iter().enumerate() {
            let x = label + cell * (b as f64 + 0.6);
            let _ = write!(
                s,
                r#"<text x="{x}" y="{}" transform="rotate(-60 {x} {})">{}</text>"#,
                grid_top - 4.0,
                grid_top - 4.0,
                xml(&clip(name, 16))
            );
        }
        let max = m.pair_scale().max(f64::MIN_POSITIVE);
        for (a, name) in names.iter().enumerate() {
            let y = grid_top + cell * a as f64;
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                label - 4.0,
                y + cell * 0.65,
                xml(&clip(name, 16))
            );
            for (b, column) in names.iter().enumerate() {
                let v = m.get(a, b);
                let beyond = v > max;
                let t = (v / max).clamp(0.0, 1.0);
                // White → dark red.
                let (r, g, bl) = (255.0 - 75.0 * t, 255.0 - 235.0 * t, 255.0 - 225.0 * t);
                let _ = write!(
                    s,
                    r#"<rect x="{}" y="{y}" width="{cell}" height="{cell}" fill="rgb({:.0},{:.0},{:.0})" {}><title>{} × {}: {v:.6}</title></rect>"#,
                    label + cell * b as f64,
                    r,
                    g,
                    bl,
                    if beyond {
                        r#"stroke="black" stroke-dasharray="3 2" class="beyond""#
                    } else {
                        r#"stroke="lightgray""#
                    },
                    xml(name),
                    xml(column)
                );
            }
        }
        let _ = write!(
            s,
            r#"<text x="4" y="{}" class="scale">shades: 0 (white) to {max:.6}, the largest pair; dashed cells lie beyond it</text>"#,
            grid_top + cell * n as f64 + 16.0
        );
    }
    s.push_str("</svg>\n");
    s
}
