use std::io::Cursor;

use super::*;

fn body<'a>(path: &'a Path, bytes: &[u8]) -> Body<'a> {
    Body { path, bytes: OnceCell::from(bytes.to_vec()) }
}

#[test]
fn line_numbers_follow_the_editor() {
    let body = b"a,b\n1,2\n3,4\n";
    assert_eq!(line_of_record(body, 0), 2);
    assert_eq!(line_of_record(body, 1), 3);
    // Blank lines before the header are skipped by polars but still count as lines.
    assert_eq!(line_of_record(b"\n\r\na,b\n1,2\n", 0), 4);
    // A quoted newline does not end a record.
    assert_eq!(line_of_record(b"a,b\n\"x\ny\",2\n3,4\n", 1), 4);
}

#[test]
fn header_names_split_like_csv() {
    assert_eq!(header_names(b",Open,High\r\n1,2,3", b','), ["", "Open", "High"]);
    assert_eq!(header_names(b"\n\n\"a,b\";\"c\"\"d\";e\n", b';'), ["a,b", "c\"d", "e"]);
    assert_eq!(header_names(b"Date", b','), ["Date"]);
}

#[test]
fn separator_is_sniffed_from_the_header() {
    assert_eq!(sniff_separator(b"Date,Open,High\n"), b',');
    assert_eq!(sniff_separator(b"Date;Open;High\n1,5;2;3"), b';');
    assert_eq!(sniff_separator(b"Date\tOpen\tHigh\n"), b'\t');
    assert_eq!(sniff_separator(b"\"a;b\",c\n"), b',');
    assert_eq!(sniff_separator(b"Date\n"), b',');
}

#[test]
fn long_records_are_found() {
    assert_eq!(find_long_record(b"a,b\n1,2\n1,2,3\n", b','), Some((1, 2, 3)));
    assert_eq!(find_long_record(b"a,b\n1,2\n1,\"2,3\"\n", b','), None);
    assert_eq!(find_long_record(b"a,b\n1,2,3", b','), Some((0, 2, 3)));
}

#[test]
fn binary_content_is_not_text() {
    let p = Path::new("x.csv");
    assert!(check_text(p, b"Date,Open\n1,2\n").is_ok());
    assert!(check_text(p, b"Date,Op\xe9n\n1,2\n").is_ok(), "latin-1 text is still text");
    assert!(matches!(check_text(p, b"\x89PNG\r\n\x1a\n\0\0"), Err(DataError::NotTabular { .. })));
    assert!(matches!(check_text(p, b"PAR1...."), Err(DataError::NotTabular { .. })));
}

fn paths(body: &str) -> (Option<Vec<u64>>, Vec<u64>) {
    let (path, sep) = (Path::new("floats.csv"), b',');
    let options = || {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .map_parse_options(move |o| o.with_separator(sep))
    };
    let finish =
        |o: CsvReadOptions| o.into_reader_with_file_handle(Cursor::new(body.as_bytes())).finish();
    let names: Vec<String> = ["date", "open", "high", "low", "close"].map(String::from).into();
    let map = parse::resolve_columns(&names, &[]).unwrap();
    let bits = |l: Loaded| l.bars.close().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let b = self::body(path, body.as_bytes());
    let fast = read_typed(path, &b, &names, &map, options(), finish).unwrap();
    let slow = from_frame(path, &b, &finish(options()).unwrap()).unwrap();
    (fast.map(bits), bits(slow))
}

#[test]
fn goog_takes_the_fast_path() {
    let body = include_bytes!("../../tests/data/GOOG.csv");
    let names = header_names(body, sniff_separator(body));
    let map = parse::resolve_columns(&names, &[]).unwrap();
    let options = CsvReadOptions::default().with_has_header(true).with_infer_schema_length(Some(0));
    let finish =
        |o: CsvReadOptions| o.into_reader_with_file_handle(Cursor::new(&body[..])).finish();
    let path = Path::new("GOOG.csv");
    let b = self::body(path, body);
    let fast = read_typed(path, &b, &names, &map, options.clone(), finish);
    let fast = fast.unwrap().expect("fast path");
    let slow = from_frame(path, &b, &finish(options).unwrap()).unwrap();
    assert_eq!(fast.bars, slow.bars);
    assert_eq!(fast.columns, slow.columns);
    assert_eq!(fast.bars.len(), 2148);
}

#[test]
fn both_paths_parse_numbers_like_python_float() {
    // tests/data/floats_python_bits.txt: CPython's float() bits for each value of floats.csv.
    let body = include_str!("../../tests/data/floats.csv");
    let want: Vec<u64> = include_str!("../../tests/data/floats_python_bits.txt")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let (fast, slow) = paths(body);
    assert_eq!(slow, want);
    assert_eq!(fast, None, "polars rejects the space-padded value: the precise path reads it");
    // Without the padded value the fast path takes the whole file, with the same bits.
    let padded = body.lines().position(|l| l.contains("  7.25  ")).unwrap();
    let trimmed: String = body
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != padded)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let mut want_trimmed = want.clone();
    want_trimmed.remove(padded - 1);
    let (fast, slow) = paths(&trimmed);
    assert_eq!(fast, Some(want_trimmed.clone()));
    assert_eq!(slow, want_trimmed);
}
