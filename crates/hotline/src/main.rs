//! `hotline`: the 12366 switch binary (serve, check, route, calls, reload).

fn main() {
    println!("hotline: under construction");
}
