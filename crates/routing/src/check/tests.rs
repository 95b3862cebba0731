//! Each dialplan mistake is reported with the line an operator must fix.

use std::path::Path;

use crate::diagnostic::Problem;
use crate::dialplan::{AgentReach, Dialplan};

/// A valid dialplan; tests change one line or append tables. Line numbers matter.
const BASE: &str = r#"[switch]
service_numbers = ["12366"]
province = "河南"
centre = "centre"
default_area_code = "0371"

[[region]]
id = "centre"
name = "省局联络中心"

[[region]]
id = "zhengzhou"
name = "郑州"
cities = ["郑州"]
area_codes = ["0371"]

[[agent]]
id = "1001"
region = "zhengzhou"
secret = "s"
"#;

/// BASE with line `line` (1-based) replaced by `text`.
fn with_line(line: usize, text: &str) -> String {
    BASE.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { text } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

fn appended(extra: &str) -> String {
    format!("{BASE}\n{extra}")
}

/// (line, column, problem) of every diagnostic.
fn problems(text: &str) -> Vec<(usize, usize, Problem)> {
    match Dialplan::parse(text, Path::new("t.toml")) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics
            .into_iter()
            .map(|d| (d.line, d.col, d.problem))
            .collect(),
    }
}

/// The one problem of `text`, with its line.
fn only_problem(text: &str) -> (usize, Problem) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let (line, _, problem) = found.into_iter().next().unwrap();
    (line, problem)
}

#[test]
fn base_dialplan_is_valid() {
    let plan = Dialplan::parse(BASE, Path::new("t.toml")).unwrap();
    assert_eq!(plan.regions.len(), 2);
    assert_eq!(plan.agents.len(), 1);
    assert_eq!(plan.regions[1].ring_timeout.as_secs(), 15);
    assert_eq!(plan.regions[1].overflow_after.as_secs(), 60);
    assert_eq!(
        plan.agents[0].reach,
        AgentReach::Registers { secret: "s".into() }
    );
}

#[test]
fn bundled_henan_dialplan_is_valid() {
    let text = include_str!("../../../../dialplans/henan.toml");
    let plan = Dialplan::parse(
        text,
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../dialplans/henan.toml"
        )),
    )
    .unwrap();
    assert_eq!(plan.regions.len(), 19);
    assert_eq!(plan.agents.len(), 21);
    for region in &plan.regions {
        let seated = plan.agents.iter().any(|a| a.region == region.id);
        assert!(seated, "region {} has no demo agent", region.id);
    }
}

#[test]
fn the_bundled_menu_and_hours_are_loaded() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dialplans/henan.toml"
    ));
    let plan = Dialplan::load(path).unwrap();
    let menu = plan.menu.expect("henan has a voice menu");
    assert_eq!(menu.start.to_string(), "welcome");
    assert!(plan.prompt_dir.join("welcome.wav").exists());
    assert!(!plan.schedule.holidays.is_empty());
}

#[test]
fn menu_and_hours_problems_point_at_their_lines() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dialplans/t.toml"
    ));
    let text = format!(
        "{BASE}\n[hours]\nholidays = [\"2026-02-30\"]\n\n[ivr]\nstart = \"main\"\nclosed = \"main\"\n\n\
[[ivr.node]]\nid = \"main\"\nplay = [\"no-such-prompt\"]\nnext = \"elsewhere\"\n"
    );
    let base_lines = BASE.lines().count();
    let err = Dialplan::parse(&text, dir).unwrap_err();
    let at = |needle: &str| {
        err.iter()
            .find(|d| d.to_string().contains(needle))
            .map(|d| d.line)
            .unwrap_or_else(|| panic!("no {needle} in {err:?}"))
    };
    assert_eq!(at("2026-02-30"), base_lines + 3);
    assert_eq!(at("no-such-prompt"), base_lines + 11);
    assert_eq!(at("elsewhere"), base_lines + 12);
}

#[test]
fn toml_syntax_error_points_at_its_line() {
    let (line, problem) = only_problem(&with_line(2, r#"service_numbers = ["12366""#));
    assert_eq!(line, 3);
    assert!(matches!(problem, Problem::Toml(_)), "{problem:?}");
}

#[test]
fn unknown_key_is_an_error_on_its_line() {
    let (line, problem) = only_problem(&with_line(13, r#"nmae = "郑州""#));
    assert_eq!(line, 13);
    assert!(matches!(problem, Problem::Toml(m) if m.contains("nmae")));
}

#[test]
fn value_of_the_wrong_type_is_an_error_on_its_line() {
    let (line, problem) = only_problem(&with_line(18, "id = 1001"));
    assert_eq!(line, 18);
    assert!(matches!(problem, Problem::Toml(m) if m.contains("integer")));
}

#[test]
fn missing_key_points_at_its_table() {
    let (line, problem) = only_problem(&with_line(13, ""));
    assert_eq!(line, 11);
    assert!(matches!(problem, Problem::Toml(m) if m.contains("name")));
}

#[test]
fn region_id_must_be_lowercase_pinyin() {
    let text = with_line(12, r#"id = "Zhengzhou""#)
        .replace(r#"region = "zhengzhou""#, r#"region = "Zhengzhou""#);
    let (line, problem) = only_problem(&text);
    assert_eq!(line, 12);
    assert_eq!(problem, Problem::BadRegionId("Zhengzhou".into()));
}

#[test]
fn duplicate_region_is_reported_where_it_is_defined_again() {
    let (line, problem) = only_problem(&appended("[[region]]\nid = \"zhengzhou\"\nname = \"x\""));
    assert_eq!(line, 23);
    assert_eq!(
        problem,
        Problem::DuplicateRegion {
            id: "zhengzhou".into(),
            first_line: 12
        }
    );
}

#[test]
fn centre_must_be_a_region() {
    let (line, problem) = only_problem(&with_line(4, r#"centre = "center""#));
    assert_eq!(line, 4);
    assert_eq!(problem, Problem::MissingCentre("center".into()));
}

#[test]
fn agent_in_an_unknown_region_is_reported_on_its_region_line() {
    let (line, problem) = only_problem(&with_line(19, r#"region = "kaifeng""#));
    assert_eq!(line, 19);
    assert_eq!(problem, Problem::UnknownRegion("kaifeng".into()));
}

#[test]
fn trunk_in_an_unknown_region_is_reported_on_its_region_line() {
    let trunk = "[[trunk]]\nname = \"carrier\"\naddress = \"192.0.2.1\"\nregion = \"luoyang\"";
    let (line, problem) = only_problem(&appended(trunk));
    assert_eq!(line, 25);
    assert_eq!(problem, Problem::UnknownRegion("luoyang".into()));
}

#[test]
fn duplicate_agent_is_reported_where_it_is_defined_again() {
    let agent = "[[agent]]\nid = \"1001\"\nregion = \"centre\"\nsecret = \"t\"";
    let (line, problem) = only_problem(&appended(agent));
    assert_eq!(line, 23);
    assert_eq!(
        problem,
        Problem::DuplicateAgent {
            id: "1001".into(),
            first_line: 18
        }
    );
}

#[test]
fn agent_id_must_be_digits() {
    let (line, problem) = only_problem(&with_line(18, r#"id = "zhang3""#));
    assert_eq!(line, 18);
    assert_eq!(problem, Problem::BadAgentId("zhang3".into()));
}

#[test]
fn agent_needs_a_secret_or_a_contact() {
    let (line, problem) = only_problem(&with_line(20, ""));
    assert_eq!(line, 18);
    assert_eq!(problem, Problem::AgentUnreachable("1001".into()));
}

#[test]
fn a_static_seat_may_have_a_secret_for_the_calls_it_places() {
    let text = appended(r#"contact = "sip:1001@192.0.2.7""#);
    assert!(problems(&text).is_empty(), "{:?}", problems(&text));
    let plan = crate::Dialplan::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let seat = plan.phone("1001").unwrap();
    assert!(matches!(
        seat,
        crate::AgentReach::Static {
            secret: Some(_),
            trust_address: false,
            ..
        }
    ));
    assert!(
        !format!("{seat:?}").contains("pw"),
        "the secret never prints"
    );
}

#[test]
fn agent_with_an_empty_secret_is_refused() {
    let (line, problem) = only_problem(&with_line(20, r#"secret = """#));
    assert_eq!(line, 20);
    assert_eq!(problem, Problem::EmptySecret("1001".into()));
}

#[test]
fn static_contact_must_be_a_sip_uri_with_a_host() {
    let (line, problem) = only_problem(&with_line(20, r#"contact = "sip:1001@""#));
    assert_eq!(line, 20);
    assert!(matches!(problem, Problem::BadContact { .. }), "{problem:?}");
    let good = with_line(20, r#"contact = "sip:1001@192.0.2.7:5060""#);
    assert!(problems(&good).is_empty());
}

#[test]
fn any_port_belongs_to_a_static_contact() {
    let (line, problem) = only_problem(&appended("any_port = true"));
    assert_eq!(line, 22);
    assert_eq!(problem, Problem::SeatFlagWithoutContact("1001".into()));
    let seat = with_line(20, "contact = \"sip:1001@192.0.2.7:5062\"\nany_port = true");
    assert!(problems(&seat).is_empty(), "{:?}", problems(&seat));
    let (_, problem) = only_problem(&appended("trust_address = true"));
    assert_eq!(problem, Problem::SeatFlagWithoutContact("1001".into()));
    let trusted = with_line(
        20,
        "contact = \"sip:1001@192.0.2.7:5062\"\ntrust_address = true",
    );
    assert!(problems(&trusted).is_empty(), "{:?}", problems(&trusted));
}

#[test]
fn area_code_claimed_by_two_regions_is_reported_on_the_second_claim() {
    let region = "[[region]]\nid = \"kaifeng\"\nname = \"开封\"\narea_codes = [\"0371\"]";
    let (line, problem) = only_problem(&appended(region));
    assert_eq!(line, 25);
    assert_eq!(
        problem,
        Problem::DuplicatePrefix {
            prefix: "0371".into(),
            other: "zhengzhou".into(),
            first_line: 15
        }
    );
}

#[test]
fn prefix_equal_to_another_regions_area_code_is_a_duplicate() {
    let region = "[[region]]\nid = \"kaifeng\"\nname = \"开封\"\nprefixes = [\"0371\"]";
    let (line, problem) = only_problem(&appended(region));
    assert_eq!(line, 25);
    assert!(matches!(problem, Problem::DuplicatePrefix { .. }));
}

#[test]
fn longer_prefix_inside_another_regions_area_code_is_the_kaifeng_split() {
    let region = "[[region]]\nid = \"kaifeng\"\nname = \"开封\"\ncities = [\"开封\"]\nprefixes = [\"03712\"]";
    assert_eq!(problems(&appended(region)), Vec::new());
}

#[test]
fn prefix_must_be_zero_and_digits_from_a_whole_area_code() {
    for bad in ["3712", "0371x", "037", "00371", "0371234567890"] {
        let (line, problem) = only_problem(&with_line(15, &format!("prefixes = [\"{bad}\"]")));
        assert_eq!(line, 15);
        assert_eq!(problem, Problem::BadPrefix(bad.into()));
    }
}

#[test]
fn area_code_must_follow_the_numbering_plan() {
    let (line, problem) = only_problem(&with_line(15, r#"area_codes = ["371"]"#));
    assert_eq!(line, 15);
    assert_eq!(problem, Problem::BadAreaCode("371".into()));
    let (line, _) = only_problem(&with_line(5, r#"default_area_code = "03710""#));
    assert_eq!(line, 5);
}

#[test]
fn city_claimed_by_two_regions_is_reported_on_the_second_claim() {
    let region = "[[region]]\nid = \"kaifeng\"\nname = \"开封\"\ncities = [\"开封\", \"郑州\"]";
    let (line, problem) = only_problem(&appended(region));
    assert_eq!(line, 25);
    assert_eq!(
        problem,
        Problem::DuplicateCity {
            city: "郑州".into(),
            other: "zhengzhou".into(),
            first_line: 14
        }
    );
}

#[test]
fn city_must_be_spelled_as_in_the_segment_table() {
    let (line, problem) = only_problem(&with_line(14, r#"cities = ["鄭州"]"#));
    assert_eq!(line, 14);
    assert_eq!(problem, Problem::UnknownCity("鄭州".into()));
}

#[test]
fn places_of_another_province_are_reported() {
    let (line, problem) = only_problem(&with_line(14, r#"cities = ["北京"]"#));
    assert_eq!(line, 14);
    assert!(matches!(problem, Problem::OutOfProvince { .. }));
    let (line, _) = only_problem(&with_line(15, r#"area_codes = ["010"]"#));
    assert_eq!(line, 15);
}

#[test]
fn province_must_be_known() {
    let (line, problem) = only_problem(&with_line(3, r#"province = "河南省""#));
    assert_eq!(line, 3);
    assert_eq!(problem, Problem::UnknownProvince("河南省".into()));
}

#[test]
fn service_numbers_must_be_digits_and_not_empty() {
    let (line, problem) = only_problem(&with_line(2, r#"service_numbers = ["12366", "tax"]"#));
    assert_eq!(line, 2);
    assert_eq!(problem, Problem::BadServiceNumber("tax".into()));
    let (line, problem) = only_problem(&with_line(2, "service_numbers = []"));
    assert_eq!(line, 2);
    assert_eq!(problem, Problem::NoServiceNumbers);
}

#[test]
fn ring_timeout_of_zero_is_refused() {
    let (line, problem) = only_problem(&appended("").replace(
        "area_codes = [\"0371\"]\n",
        "area_codes = [\"0371\"]\nring_timeout_secs = 0\n",
    ));
    assert_eq!(line, 16);
    assert_eq!(problem, Problem::ZeroRingTimeout);
}

#[test]
fn trunk_address_must_be_an_ip_or_ip_and_port() {
    for good in [
        "192.0.2.1",
        "192.0.2.1:5060",
        "2001:db8::1",
        "[2001:db8::1]:5060",
    ] {
        let trunk =
            format!("[[trunk]]\nname = \"c\"\naddress = \"{good}\"\nregion = \"zhengzhou\"");
        assert_eq!(problems(&appended(&trunk)), Vec::new(), "{good}");
    }
    for bad in ["carrier.example", "192.0.2.1:99999", "192.0.2"] {
        let trunk = format!("[[trunk]]\nname = \"c\"\naddress = \"{bad}\"");
        let (line, problem) = only_problem(&appended(&trunk));
        assert_eq!(line, 24);
        assert_eq!(problem, Problem::BadTrunkAddress(bad.into()));
    }
}

#[test]
fn trunks_may_not_share_a_name_or_an_address() {
    let trunks = "[[trunk]]\nname = \"a\"\naddress = \"192.0.2.1\"\n\n\
                  [[trunk]]\nname = \"a\"\naddress = \"192.0.2.1\"";
    let found = problems(&appended(trunks));
    let lines: Vec<usize> = found.iter().map(|(l, _, _)| *l).collect();
    assert_eq!(lines, vec![27, 28]);
    assert!(found.iter().all(|(_, _, p)| matches!(
        p,
        Problem::DuplicateTrunk {
            first_line: 23 | 24,
            ..
        }
    )));
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = with_line(4, r#"centre = "center""#)
        .replace(r#"id = "1001""#, r#"id = "x1""#)
        .replace(r#"cities = ["郑州"]"#, r#"cities = ["鄭州"]"#);
    let lines: Vec<usize> = problems(&text).iter().map(|(l, _, _)| *l).collect();
    assert_eq!(lines, vec![4, 14, 18]);
}

#[test]
fn columns_point_at_the_value() {
    let found = problems(&with_line(4, r#"centre = "center""#));
    assert_eq!((found[0].0, found[0].1), (4, 10));
}

#[test]
fn unreadable_file_is_one_diagnostic_without_a_line() {
    let err = Dialplan::load(Path::new("/nonexistent/henan.toml")).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].line, 0);
    assert!(err[0]
        .to_string()
        .starts_with("/nonexistent/henan.toml: cannot read"));
}

#[test]
fn queue_settings_default_and_are_range_checked() {
    let plan = Dialplan::parse(BASE, Path::new("t.toml")).unwrap();
    let q = &plan.regions[1].queue;
    assert_eq!(q.strategy, "longest-idle");
    assert_eq!(q.wrap_up, std::time::Duration::from_secs(20));
    assert_eq!((q.first_levels, q.missed_before_pause), (5, 1));
    let text = with_line(
        15,
        "area_codes = [\"0371\"]\nstrategy = \"ring-all\"\nwrap_up_secs = 0\nfirst_levels = 2",
    );
    let plan = Dialplan::parse(&text, Path::new("t.toml")).unwrap();
    let q = &plan.regions[1].queue;
    assert_eq!((q.strategy.as_str(), q.first_levels), ("ring-all", 2));
    assert!(q.wrap_up.is_zero());
    let (line, p) = only_problem(&with_line(15, "strategy = \"fastest\""));
    assert_eq!(line, 15);
    assert!(matches!(p, Problem::UnknownStrategy(s) if s == "fastest"));
    let (_, p) = only_problem(&with_line(15, "first_levels = 9"));
    assert!(matches!(
        p,
        Problem::OutOfRange {
            key: "first_levels",
            ..
        }
    ));
}

#[test]
fn skills_carry_levels_and_must_be_well_formed() {
    let text = with_line(
        20,
        "secret = \"s\"\nskills = [\"filing:1\", \"invoices:3\", \"tax\"]",
    );
    let plan = Dialplan::parse(&text, Path::new("t.toml")).unwrap();
    assert_eq!(
        plan.agents[0].skills,
        [
            ("filing".into(), 1),
            ("invoices".into(), 3),
            ("tax".into(), 1)
        ]
    );
    let (line, p) = only_problem(&with_line(20, "secret = \"s\"\nskills = [\"filing:7\"]"));
    assert_eq!(line, 21);
    assert!(matches!(p, Problem::BadSkill(s) if s == "filing:7"));
}

#[test]
fn a_legacy_region_names_an_existing_trunk() {
    let text = with_line(
        15,
        "area_codes = [\"0371\"]\nmode = \"legacy\"\nlegacy_trunk = \"zz-old\"",
    );
    let (line, p) = only_problem(&text);
    assert_eq!(line, 17);
    assert!(matches!(p, Problem::UnknownTrunk(t) if t == "zz-old"));
    let ok = format!("{text}\n[[trunk]]\nname = \"zz-old\"\naddress = \"192.0.2.20:5060\"\n");
    let plan = Dialplan::parse(&ok, Path::new("t.toml")).unwrap();
    assert_eq!(
        plan.regions[1].mode,
        crate::RegionMode::Legacy {
            trunk: "zz-old".into()
        }
    );
    let (_, p) = only_problem(&with_line(15, "mode = \"legacy\""));
    assert!(matches!(p, Problem::BadMode(_)));
}

#[test]
fn supervisors_have_a_scope_and_their_own_ids() {
    let sup = "[[supervisor]]\nid = \"1950\"\nsecret = \"x\"\nscope = \"zhengzhou\"\n\n[[supervisor]]\nid = \"1951\"\nsecret = \"y\"\nscope = \"province\"\n";
    let plan = Dialplan::parse(&appended(sup), Path::new("t.toml")).unwrap();
    assert_eq!(plan.supervisors.len(), 2);
    assert!(matches!(
        plan.phone("1950"),
        Some(AgentReach::Registers { .. })
    ));
    assert!(plan.phone("1001").is_some());
    let (_, p) = only_problem(&appended(
        "[[supervisor]]\nid = \"1001\"\nsecret = \"x\"\nscope = \"province\"\n",
    ));
    assert!(matches!(p, Problem::DuplicateSupervisor(id) if id == "1001"));
    let (_, p) = only_problem(&appended(
        "[[supervisor]]\nid = \"1952\"\nsecret = \"x\"\nscope = \"nowhere\"\n",
    ));
    assert!(matches!(p, Problem::BadScope(s) if s == "nowhere"));
}

#[test]
fn trunks_for_calls_out_allow_domestic_patterns_only() {
    let trunk = "[[trunk]]\nname = \"out\"\naddress = \"127.0.0.1:5090\"\nallow = [\"1[3-9]XXXXXXXXX\", \"0ZXXXXXXXX.\"]\nusername = \"u\"\npassword = \"p\"\ncaller_id = \"12366\"\n";
    let plan = Dialplan::parse(&appended(trunk), Path::new("t.toml")).unwrap();
    let t = plan.trunk_for("13903790000").unwrap();
    assert_eq!(t.name, "out");
    assert!(plan.trunk_for("0012025550100").is_none());
    assert!(!format!("{t:?}").contains("\"p\""));
    let (_, p) = only_problem(&appended(
        "[[trunk]]\nname = \"bad\"\naddress = \"127.0.0.1\"\nallow = [\"0.\"]\n",
    ));
    assert!(matches!(p, Problem::InternationalPattern(_)));
    let (_, p) = only_problem(&appended(
        "[[trunk]]\nname = \"bad\"\naddress = \"127.0.0.1\"\nusername = \"u\"\n",
    ));
    assert!(matches!(p, Problem::BadTrunk(_)));
}

#[test]
fn the_centre_is_never_legacy() {
    let text = with_line(
        9,
        "name = \"省局联络中心\"\nmode = \"legacy\"\nlegacy_trunk = \"old\"",
    ) + "\n[[trunk]]\nname = \"old\"\naddress = \"192.0.2.30:5060\"\n";
    let (line, p) = only_problem(&text);
    assert_eq!(line, 4, "reported at [switch] centre");
    assert!(matches!(p, Problem::BadMode(why) if why.contains("centre")));
}
