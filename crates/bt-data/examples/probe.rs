use polars::prelude::*;
fn main() {
    for p in std::env::args().skip(1) {
        let bytes = std::fs::read(&p).unwrap();
        let t = std::time::Instant::now();
        let r = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .map_parse_options(|o| o.with_encoding(CsvEncoding::LossyUtf8))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish();
        let el = t.elapsed();
        match r {
            Ok(df) => { println!("{p}: {:?} {:?} chunks={} {el:?}", df.shape(), df.get_column_names(), df.first_col_n_chunks()); if df.height() < 20 { for c in df.columns() { println!("  {:?}", c.as_materialized_series().str().unwrap().iter().collect::<Vec<_>>()); } } }
            Err(e) => println!("{p}: ERR {e}"),
        }
    }
}
