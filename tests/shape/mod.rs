//! How a batch job's input is given, for tests that run each case both ways.

use google_people::Person;
use google_people::batch::{BatchUpdate, Outcome, Summary};

/// The caller's own `Vec` (worked through where it lies, a window at a time) or any other
/// iterator (pulled into chunk lists). Every behaviour holds for both.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    List,
    Lazy,
}

pub const SHAPES: [Shape; 2] = [Shape::List, Shape::Lazy];

/// `job.run_all(input)`, with `input` given in `shape`.
pub async fn run_all_as(
    job: &BatchUpdate,
    shape: Shape,
    input: Vec<(String, Person)>,
) -> (Vec<Outcome>, Summary) {
    match shape {
        Shape::List => job.run_all(input).await,
        Shape::Lazy => {
            let mut input = input.into_iter();
            job.run_all(std::iter::from_fn(move || input.next())).await
        }
    }
}
