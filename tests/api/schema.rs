//! The database holds each column to what its domain type promises, so that
//! the service can load rows into those types without checking them again:
//! a value written behind the service's back is refused where it is written.

use crate::helpers::{Identity, TestApp};
use crate::resources::Resource;
use sea_orm::{ConnectionTrait, Database};

fn table<R: Resource>() -> &'static str {
    match R::VALUE_FIELD {
        "number" => "dids",
        _ => "sender_ids",
    }
}

async fn the_database_refuses_a_row_that_breaks_a_domain_rule<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    api.create(&Identity::admin(), &R::value(1), "MA", Some("kept"), 0)
        .await
        .unwrap();
    let db = Database::connect(app.database_url()).await.unwrap();
    let (table, column) = (table::<R>(), R::VALUE_FIELD);
    let mut breaking: Vec<String> = R::invalid_values()
        .into_iter()
        .map(|value| format!("{column} = '{value}'"))
        .collect();
    breaking.extend(
        [
            "country = 'ma'",
            "country = 'M1'",
            "description = ''",
            "status = 'bogus'",
        ]
        .map(String::from),
    );

    for change in &breaking {
        let written = db
            .execute_unprepared(&format!("UPDATE {table} SET {change}"))
            .await;
        assert!(written.is_err(), "{change} was stored");
    }
    let valid = format!("UPDATE {table} SET {column} = '{}'", R::value(2));
    db.execute_unprepared(&valid)
        .await
        .expect("a valid row is kept");
    db.close().await.ok();
}

crate::for_both_resources!(the_database_refuses_a_row_that_breaks_a_domain_rule);
