//! Per-instrument costs from the queue (a data set's `costs`, applied when it trades in a
//! portfolio) and report.html's instruments table under each portfolio run's weights chart.

use bt::{
    Dataset, ReportOptions, RunOptions, Workbench,
    domain::{ParamValue, Params},
    executor::Mode,
    load_datasets,
    portfolio::{self, InstrumentCosts, InstrumentSummary},
};

const QUEUE: &str = r#"(
    version: 1,
    defaults: (cash: 100000.0, commission: 0.001),
    datasets: {
        "x": (synthetic: (bars: 400, seed: 1, interval: "1d"), costs: (commission: 0.004, spread: 0.0005)),
        "y": (synthetic: (bars: 400, seed: 2, interval: "1d", volatility: 0.4), costs: (fractional_unit: 0.001)),
        "z": (synthetic: (bars: 400, seed: 3, interval: "1d")),
    },
    portfolios: {"xyz": ["x", "y", "z"]},
    simulations: [(id: "ew", dataset: "xyz", strategy: "equal_weight", params: {"every": 21})],
)"#;

fn every(n: i64) -> Params {
    Params::from([("every".to_owned(), ParamValue::Int(n))])
}

#[test]
fn queue_costs_equal_the_api_run_with_the_same_instrument_costs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.ron");
    std::fs::write(&path, QUEUE).unwrap();
    let wb = Workbench::default();
    let queue = wb.read_queue(&path).unwrap();
    let config = queue.default_config();
    let datasets = load_datasets(&queue).unwrap();
    let data = &datasets["xyz"];
    let from_queue = wb.backtest(data, "equal_weight", &every(21), &config, false).unwrap();
    let got = from_queue.instruments.as_ref().unwrap();

    // The same run through the API: bt_portfolio with the costs spelled out.
    let base = InstrumentCosts::from_config(&config);
    let costs = vec![
        InstrumentCosts { commission: 0.004, spread: 0.0005, ..base },
        InstrumentCosts { granularity: Some(0.001), ..base },
        base,
    ];
    let options = portfolio::RunOptions { costs: Some(costs), ..Default::default() };
    let mut strategy = portfolio::builtin::EqualWeight::new(21);
    let api = portfolio::run_portfolio(
        data.portfolio.as_ref().unwrap(),
        &mut strategy,
        &config,
        &options,
        &mut (),
    )
    .unwrap();
    assert_eq!(got, &api.instruments, "queue costs and API costs give different runs");
    assert_eq!(from_queue.result.final_equity, api.final_equity);

    // Without the queue's costs every instrument pays 0.1%: x's fees change, and per unit of
    // traded value x pays four times what z pays.
    let plain = Dataset::portfolio((**data.portfolio.as_ref().unwrap()).clone(), "plain").unwrap();
    let uniform = wb.backtest(&plain, "equal_weight", &every(21), &config, false).unwrap();
    let uniform = uniform.instruments.as_ref().unwrap();
    assert_ne!(got[0].fees, uniform[0].fees);
    let rate = |i: &InstrumentSummary| i.fees / i.turnover;
    let ratio = rate(&got[0]) / rate(&got[2]);
    assert!((ratio - 4.0).abs() < 1e-9, "x pays {ratio} times z's rate");
    assert!(uniform.iter().all(|i| i.fees > 0.0));
    // y trades in thousandths of a unit: its final position is not a whole number.
    assert_ne!(got[1].final_position.fract(), 0.0, "{}", got[1].final_position);
}

/// The cells of the instruments table of run `id` in report.html, row by row.
fn table_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<table class=\"instruments\" data-run=\"{id}\">"))
        .unwrap_or_else(|| panic!("no instruments table for {id}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>").skip(1).map(|c| c[..c.find("</td>").unwrap()].to_owned()).collect()
        })
        .collect()
}

#[test]
fn report_html_shows_each_instrument_under_the_weights_chart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.ron");
    std::fs::write(&path, QUEUE).unwrap();
    let wb = Workbench::default();
    let queue = wb.read_queue(&path).unwrap();
    let mut htmls = Vec::new();
    for (name, mode) in [("seq", Mode::Sequential), ("par", Mode::Threads(2))] {
        let out = dir.path().join(name);
        let report = Some(ReportOptions::default());
        wb.run_queue(&queue, &RunOptions { out: out.clone(), mode, report, ..Default::default() })
            .unwrap();
        htmls.push(std::fs::read_to_string(out.join("report.html")).unwrap());
    }
    let html = &htmls[0];
    let figure = html.find("<figure id=\"weights-01-ew\">").expect("the weights chart");
    let table = html.find("<table class=\"instruments\" data-run=\"ew\">").unwrap();
    assert!(figure < table, "the table comes under the chart");

    let datasets = load_datasets(&queue).unwrap();
    let b =
        wb.backtest(&datasets["xyz"], "equal_weight", &every(21), &queue.default_config(), false);
    let want: Vec<Vec<String>> = b
        .unwrap()
        .instruments
        .unwrap()
        .iter()
        .map(|i| {
            vec![
                i.name.clone(),
                format!("{:.2}", i.exposure * 100.0),
                format!("{:.3}", i.turnover),
                format!("{:.2}", i.fees),
                i.fills.to_string(),
                format!("{:.3}", i.contribution * 100.0),
            ]
        })
        .collect();
    assert_eq!(table_rows(html, "ew"), want);
    assert_eq!(table_rows(&htmls[1], "ew"), want, "the parallel run's report differs");
}
