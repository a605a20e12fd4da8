//! The dagr node core running as firmware: a Cortex-M4F image for QEMU's `mps2-an386`
//! board, so the same `no_std` core that `dagr-node-sim` runs on a PC boots on an emulated
//! microcontroller, with interrupts, a real UART and static memory only.
//!
//! - SysTick interrupts at 1 kHz keep the node clock (µs since boot) and run the synthetic
//!   CSI / radar / RFID drivers of `dagr_firmware::drivers`, which push into the lock-free
//!   sample ring exactly as sensor interrupts would on a board.
//! - The main loop moves bytes between the CMSDK UART0 (QEMU connects it to `-serial`,
//!   e.g. a pty) and [`Node::poll`], which answers time-sync requests and commands, sends
//!   the queued samples as node frames and heartbeats; then it sleeps (`wfi`) until the
//!   next tick.
//! - Every 2 s it reports the stack's high-water mark (the stack is painted at boot) over
//!   semihosting, so QEMU must run with `-semihosting-config enable=on,target=native`.
//!
//! What this file must not know: the protocol (it hands bytes to the core), the signals
//! (the drivers make them). The `unsafe` here is the board's: memory-mapped registers and
//! the stack paint; the core itself forbids `unsafe`.
#![no_std]
#![no_main]

use core::cell::RefCell;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::{self, Mutex};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SCB;
use cortex_m_rt::{entry, exception};
use cortex_m_semihosting::hprintln;
use dagr_firmware::drivers::{
    self, CsiGenerator, RadarGenerator, RfidGenerator, CSI_STREAM, RADAR_STREAM, RFID_STREAM,
};
use dagr_firmware::protocol::Modality;
use dagr_firmware::{
    AnySample, Clock, Link, LinkError, Node, NodeConfig, SampleProducer, SampleRing, Switchboard,
    DEFAULT_RING_SLOTS,
};

/// Node id this image announces.
const NODE_ID: u16 = 5;
/// CSI packets per second at boot, millihertz (the host may change it by command).
const CSI_RATE_MHZ: u32 = 100_000;
/// The mps2-an386 system clock that drives SysTick.
const SYSCLK_HZ: u32 = 25_000_000;
/// SysTick reload for a 1 kHz tick.
const TICK_RELOAD: u32 = SYSCLK_HZ / 1_000 - 1;
/// How often the stack high-water mark is reported, µs.
const REPORT_EVERY_US: u64 = 2_000_000;
/// The word the unused stack is painted with at boot.
const PAINT: u32 = 0xDA6E_57AC;

/// The three sensor streams, shared by the drivers (read) and the node's commands (write).
static BOARD: Switchboard<3> = Switchboard::new(drivers::switches(CSI_RATE_MHZ));
/// Milliseconds since boot, counted by the SysTick interrupt.
static MILLIS: AtomicU32 = AtomicU32::new(0);
/// What the SysTick interrupt drives: the generators and the ring's producer end.
static DRIVERS: Mutex<RefCell<Option<Drivers>>> = Mutex::new(RefCell::new(None));

/// The interrupt-side half of the node: synthetic sensors feeding the ring.
struct Drivers {
    ring: SampleProducer<'static, AnySample>,
    csi: CsiGenerator,
    radar: RadarGenerator,
    rfid: RfidGenerator,
}

/// The node clock: SysTick's millisecond count plus the current count-down.
#[derive(Clone, Copy)]
struct SysTickClock;

impl Clock for SysTickClock {
    fn now_us(&self) -> u64 {
        loop {
            let ms = MILLIS.load(Ordering::Acquire);
            let count = cortex_m::peripheral::SYST::get_current();
            let wrapped = SCB::is_pendst_pending();
            if MILLIS.load(Ordering::Acquire) != ms {
                continue; // the tick ran in between: read again
            }
            // A wrap whose interrupt has not run yet (it is pending) is a millisecond more.
            let ms = u64::from(ms) + u64::from(wrapped && count > TICK_RELOAD / 2);
            let sub_us = u64::from(TICK_RELOAD - count) * 1_000_000 / u64::from(SYSCLK_HZ);
            return ms * 1_000 + sub_us;
        }
    }
}

/// CMSDK APB UART0 of the mps2 boards (QEMU's `-serial`).
mod uart {
    const BASE: usize = 0x4000_4000;
    const DATA: usize = BASE;
    const STATE: usize = BASE + 0x04;
    const CTRL: usize = BASE + 0x08;
    const BAUDDIV: usize = BASE + 0x10;
    const STATE_TX_FULL: u32 = 1 << 0;
    const STATE_RX_FULL: u32 = 1 << 1;
    const CTRL_TX_EN: u32 = 1 << 0;
    const CTRL_RX_EN: u32 = 1 << 1;

    fn read(reg: usize) -> u32 {
        // SAFETY: `reg` is one of UART0's registers, always mapped on this board.
        unsafe { core::ptr::read_volatile(reg as *const u32) }
    }

    fn write(reg: usize, value: u32) {
        // SAFETY: as in `read`; the registers take 32-bit writes.
        unsafe { core::ptr::write_volatile(reg as *mut u32, value) }
    }

    /// Enables transmit and receive at 921 600 baud (QEMU does not pace by it).
    pub fn init() {
        write(BAUDDIV, super::SYSCLK_HZ / 921_600);
        write(CTRL, CTRL_TX_EN | CTRL_RX_EN);
    }

    /// Sends one byte, waiting while the transmit buffer is full.
    pub fn put(byte: u8) {
        while read(STATE) & STATE_TX_FULL != 0 {}
        write(DATA, u32::from(byte));
    }

    /// Takes the bytes received so far, up to `out.len()`; returns how many.
    pub fn take(out: &mut [u8]) -> usize {
        let mut n = 0;
        while n < out.len() && read(STATE) & STATE_RX_FULL != 0 {
            out[n] = read(DATA) as u8;
            n += 1;
        }
        n
    }
}

/// The node's link: UART0, written byte by byte.
struct Uart;

impl Link for Uart {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, LinkError> {
        bytes.iter().for_each(|&b| uart::put(b));
        Ok(bytes.len())
    }
}

/// Stack painting: fill the unused stack at boot, later find the deepest word touched.
mod stack {
    extern "C" {
        /// First address after the statics (cortex-m-rt's link.x).
        static __sheap: u32;
        /// Top of the stack (cortex-m-rt's link.x).
        static _stack_start: u32;
    }

    fn bottom() -> usize {
        core::ptr::addr_of!(__sheap) as usize
    }

    fn top() -> usize {
        core::ptr::addr_of!(_stack_start) as usize
    }

    /// Paints from the end of the statics up to 256 bytes below the current frame.
    pub fn paint() {
        let limit = cortex_m::register::msp::read() as usize - 256;
        let mut at = bottom();
        while at < limit {
            // SAFETY: between the statics and the live stack, RAM no one uses yet.
            unsafe { core::ptr::write_volatile(at as *mut u32, super::PAINT) };
            at += 4;
        }
    }

    /// Bytes of stack ever used: from the top down to the deepest unpainted word.
    pub fn high_water() -> usize {
        let mut at = bottom();
        // SAFETY: reads RAM between the statics and the stack top, all mapped.
        while at < top() && unsafe { core::ptr::read_volatile(at as *const u32) } == super::PAINT {
            at += 4;
        }
        top() - at
    }
}

#[entry]
fn main() -> ! {
    stack::paint();
    uart::init();
    let mut core = cortex_m::Peripherals::take().expect("taken once, at boot");

    let ring =
        cortex_m::singleton!(: SampleRing<AnySample, DEFAULT_RING_SLOTS> = SampleRing::new())
            .expect("runs once");
    let (producer, mut consumer) = ring.split();
    interrupt::free(|cs| {
        DRIVERS.borrow(cs).replace(Some(Drivers {
            ring: producer,
            csi: CsiGenerator::default(),
            radar: RadarGenerator::default(),
            rfid: RfidGenerator::default(),
        }))
    });
    let config = NodeConfig::new(NODE_ID, Modality::Wifi);
    let node = cortex_m::singleton!(
        : Node<Uart, SysTickClock, &'static Switchboard<3>> =
            Node::new(config, Uart, SysTickClock, &BOARD)
    )
    .expect("runs once");

    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(TICK_RELOAD);
    core.SYST.clear_current();
    core.SYST.enable_interrupt();
    core.SYST.enable_counter();

    let mut received = [0u8; 64];
    let mut next_report = 0;
    loop {
        let n = uart::take(&mut received);
        node.poll(&received[..n], &mut consumer);
        let now = SysTickClock.now_us();
        if now >= next_report {
            hprintln!(
                "dagr-qemu-node: stack high water {} bytes",
                stack::high_water()
            );
            next_report = now + REPORT_EVERY_US;
        }
        if n == 0 && consumer.is_empty() {
            cortex_m::asm::wfi();
        }
    }
}

#[exception]
fn SysTick() {
    MILLIS.fetch_add(1, Ordering::Release);
    let now = SysTickClock.now_us();
    interrupt::free(|cs| {
        let mut drivers = DRIVERS.borrow(cs).borrow_mut();
        let Some(d) = drivers.as_mut() else { return };
        let switch = |id| BOARD.stream(id).expect("the three streams exist");
        let due = [
            d.csi.poll(now, switch(CSI_STREAM)),
            d.radar.poll(now, switch(RADAR_STREAM)),
            d.rfid.poll(now, switch(RFID_STREAM)),
        ];
        for sample in due.into_iter().flatten() {
            d.ring.push(sample);
        }
    });
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    hprintln!("dagr-qemu-node: panic: {}", info);
    loop {
        cortex_m::asm::wfi();
    }
}
