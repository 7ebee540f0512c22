//! Every derived entity registers itself.

use ordinance::registered_schemas;
use ordinance_tests::all_schemas;

#[test]
fn every_fixture_entity_is_registered_once_in_table_order() {
    let registered: Vec<&str> = registered_schemas().iter().map(|s| s.name).collect();
    let mut expected: Vec<&str> = all_schemas().iter().map(|s| s.name).collect();
    expected.sort_unstable();
    assert_eq!(registered, expected);
}
