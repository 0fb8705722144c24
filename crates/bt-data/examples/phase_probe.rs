use polars::prelude::*;
use std::{io::Cursor, sync::Arc, time::Instant};
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.split_whitespace().collect();
    (f[13].parse::<f64>().unwrap() + f[14].parse::<f64>().unwrap()) / 100.0
}
fn main() {
    let p = std::env::args().nth(1).unwrap();
    for _ in 0..3 {
        let (t, c) = (Instant::now(), cpu());
        let bytes = std::fs::read(&p).unwrap();
        println!("read       wall {:.3} cpu {:.2}", t.elapsed().as_secs_f64(), cpu() - c);
        let opts =
            || CsvReadOptions::default().with_has_header(true).with_infer_schema_length(Some(0));
        let (t, c) = (Instant::now(), cpu());
        let h = opts()
            .with_n_rows(Some(0))
            .into_reader_with_file_handle(Cursor::new(&bytes[..]))
            .finish()
            .unwrap();
        println!(
            "header     wall {:.3} cpu {:.2} {:?}",
            t.elapsed().as_secs_f64(),
            cpu() - c,
            h.shape()
        );
        let schema: Schema = ["Open", "High", "Low", "Close", "Volume"]
            .iter()
            .map(|n| Field::new((*n).into(), DataType::Float64))
            .collect();
        let (t, c) = (Instant::now(), cpu());
        let df = opts()
            .with_schema_overwrite(Some(Arc::new(schema.clone())))
            .into_reader_with_file_handle(Cursor::new(&bytes[..]))
            .finish()
            .unwrap();
        println!(
            "typed cur  wall {:.3} cpu {:.2} {:?}",
            t.elapsed().as_secs_f64(),
            cpu() - c,
            df.shape()
        );
        let (t, c) = (Instant::now(), cpu());
        let df = opts()
            .with_schema_overwrite(Some(Arc::new(schema.clone())))
            .try_into_reader_with_file_path(Some(p.clone().into()))
            .unwrap()
            .finish()
            .unwrap();
        println!(
            "typed file wall {:.3} cpu {:.2} {:?}",
            t.elapsed().as_secs_f64(),
            cpu() - c,
            df.shape()
        );
        for nt in [1usize, 2, 4] {
            let (t, c) = (Instant::now(), cpu());
            let df = opts()
                .with_n_threads(Some(nt))
                .with_schema_overwrite(Some(Arc::new(schema.clone())))
                .try_into_reader_with_file_path(Some(p.clone().into()))
                .unwrap()
                .finish()
                .unwrap();
            println!(
                "typed nt={nt} wall {:.3} cpu {:.2} {:?}",
                t.elapsed().as_secs_f64(),
                cpu() - c,
                df.shape()
            );
        }
        let (t, c) = (Instant::now(), cpu());
        let df = opts()
            .with_low_memory(true)
            .with_schema_overwrite(Some(Arc::new(schema.clone())))
            .try_into_reader_with_file_path(Some(p.clone().into()))
            .unwrap()
            .finish()
            .unwrap();
        println!(
            "typed lowm wall {:.3} cpu {:.2} {:?}",
            t.elapsed().as_secs_f64(),
            cpu() - c,
            df.shape()
        );
        let mut s2 = schema.clone();
        s2.with_column("".into(), DataType::Int64);
        let (t, c) = (Instant::now(), cpu());
        let df = opts()
            .with_schema_overwrite(Some(Arc::new(schema.clone())))
            .with_projection(Some(Arc::new(vec![1, 2, 3, 4, 5])))
            .try_into_reader_with_file_path(Some(p.clone().into()))
            .unwrap()
            .finish()
            .unwrap();
        println!(
            "no ts      wall {:.3} cpu {:.2} {:?}",
            t.elapsed().as_secs_f64(),
            cpu() - c,
            df.shape()
        );
        let (t, c) = (Instant::now(), cpu());
        let df = opts()
            .try_into_reader_with_file_path(Some(p.clone().into()))
            .unwrap()
            .finish()
            .unwrap();
        println!(
            "all text   wall {:.3} cpu {:.2} {:?}",
            t.elapsed().as_secs_f64(),
            cpu() - c,
            df.shape()
        );
    }
}
