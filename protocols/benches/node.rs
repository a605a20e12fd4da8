fn main() {} // criterion bench for node: being written
