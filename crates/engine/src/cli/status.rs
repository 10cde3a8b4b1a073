use super::Context;
use crate::error::Result;

pub fn run(_ctx: &Context) -> Result<()> {
    todo!("vault helper")
}
