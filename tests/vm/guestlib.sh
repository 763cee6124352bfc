# Shell helpers prepended to every script the VM suite runs in the guest (see vmlib.Vm.run).
# Everything here reads sysfs, so it shows what the kernel really did. Builtins only in loops:
# a fork costs a lot in a TCG guest on a loaded host.

# val FILE -> its first line (no fork).
val() { local v=""; read -r v < "$1" 2>/dev/null; printf '%s' "$v"; }

# usb_dev SERIAL -> sysfs name of the USB device with that serial ("2-1"), or fails.
usb_dev() {
  local d
  for d in /sys/bus/usb/devices/*; do
    [[ -f "$d/serial" && "$(val "$d/serial")" == "$1" ]] && { echo "${d##*/}"; return 0; }
  done
  return 1
}

# usb_dev_by_id VID PID -> sysfs names of the devices with that vendor/product id.
usb_dev_by_id() {
  local d
  for d in /sys/bus/usb/devices/*; do
    [[ -f "$d/idVendor" && "$(val "$d/idVendor")" == "$1" && "$(val "$d/idProduct")" == "$2" ]] && echo "${d##*/}"
  done
}

# block_of DEV -> block devices (sda, ...) that sit below USB device DEV.
block_of() {
  local b
  for b in /sys/block/*; do
    [[ "$(readlink -f "$b")" == */"$1"/* ]] && basename "$b"
  done
  return 0
}

# netifs_of DEV -> network interfaces below USB device DEV.
netifs_of() {
  local n
  for n in /sys/class/net/*; do
    [[ "$(readlink -f "$n")" == */"$1"/* ]] && basename "$n"
  done
  return 0
}

# ifaces DEV -> one line per interface: "<name> class=<cc> authorized=<0|1> driver=<name|->"
ifaces() {
  local i drv
  for i in /sys/bus/usb/devices/"$1":*; do
    [[ -e "$i" ]] || continue
    drv=-
    [[ -L "$i/driver" ]] && drv=$(basename "$(readlink "$i/driver")")
    echo "$(basename "$i") class=$(cat "$i/bInterfaceClass") authorized=$(cat "$i/authorized" 2>/dev/null || echo ?) driver=$drv"
  done
}

# wait_usb SERIAL [SECONDS]: waits until the device is enumerated; prints its sysfs name.
wait_usb() {
  local end=$(( SECONDS + ${2:-30} ))
  until usb_dev "$1"; do
    (( SECONDS > end )) && { echo "USB device with serial $1 never appeared" >&2; return 1; }
    sleep 0.5
  done
}

# kmsg_since N: kernel log lines after line N of `dmesg` (take N with `dmesg | wc -l`).
kmsg_since() { dmesg | tail -n +"$(( $1 + 1 ))"; }
