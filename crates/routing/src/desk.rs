//! What the agent's desk in the web console offers, from `[switch]`: the categories a call's
//! summary (来电小结) is filed under, and the departments a question is handed on to
//! (转办). A centre keeps its own lists; these are the defaults.

/// Summary categories when the plan names none.
pub const DEFAULT_SUMMARY_CATEGORIES: [&str; 8] = [
    "增值税发票",
    "纳税申报",
    "税务登记",
    "社保费",
    "个人所得税",
    "政策咨询",
    "投诉举报",
    "其他",
];

/// Hand-on departments when the plan names none.
pub const DEFAULT_CASE_DEPARTMENTS: [&str; 6] = [
    "征管科",
    "货物和劳务税科",
    "所得税科",
    "社保费科",
    "纳税服务科",
    "法制科",
];

/// The plan's list with blank entries dropped, or `default` when it gives none.
pub fn list_or(given: Option<Vec<String>>, default: &[&str]) -> Vec<String> {
    let given: Vec<String> = given
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if given.is_empty() {
        default.iter().map(|s| s.to_string()).collect()
    } else {
        given
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_without_lists_gets_the_defaults() {
        assert_eq!(list_or(None, &DEFAULT_CASE_DEPARTMENTS).len(), 6);
        let own = list_or(
            Some(vec![" 发票 ".into(), "".into()]),
            &DEFAULT_SUMMARY_CATEGORIES,
        );
        assert_eq!(own, ["发票"]);
    }
}
