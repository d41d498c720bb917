/* Reading a voucher's QR code with the camera or from a photo (ZXing, vendored in
   static/vendor/zxing-browser). Whatever is read goes into the code field and the form is
   sent as a POST, exactly as if it had been typed: the server checks the signature.
   Without this script (or without a camera) the page still works by typing the code. */
(function () {
  "use strict";

  var section = document.getElementById("qr-reader");
  var form = document.getElementById("scan-form");
  var field = document.getElementById("voucher");
  if (!section || !form || !field || !window.ZXingBrowser) {
    return;
  }

  var status = document.getElementById("qr-status");
  var controlsBox = document.getElementById("camera-controls");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var video = document.getElementById("camera-preview");
  var photo = document.getElementById("qr-photo");
  // Larger photos are scaled down: phone pictures of 12 megapixels decode slowly and no better.
  var MAX_SIDE = 1600;
  var reader = new window.ZXingBrowser.BrowserQRCodeReader();
  var scanning = null;
  var sent = false;

  function say(key) {
    status.textContent = section.getAttribute("data-msg-" + key) || "";
  }

  function show(element, visible) {
    element.classList.toggle("d-none", !visible);
  }

  function submitCode(text) {
    if (sent) {
      return;
    }
    sent = true;
    say("found");
    field.value = text.trim();
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function stopCamera() {
    if (scanning) {
      scanning.stop();
      scanning = null;
    }
    show(video, false);
    show(stopButton, false);
    show(startButton, true);
  }

  function startCamera() {
    say("starting");
    show(startButton, false);
    reader
      .decodeFromConstraints(
        { audio: false, video: { facingMode: { ideal: "environment" } } },
        video,
        function (result, _error, controls) {
          if (result) {
            controls.stop();
            scanning = null;
            submitCode(result.getText());
          }
        }
      )
      .then(function (controls) {
        scanning = controls;
        show(video, true);
        show(stopButton, true);
        say("scanning");
      })
      .catch(function () {
        stopCamera();
        show(startButton, false);
        say("denied");
      });
  }

  function canvasFor(image) {
    var scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(image.width * scale));
    canvas.height = Math.max(1, Math.round(image.height * scale));
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff"; // transparent PNGs: light background, dark modules
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function readPhoto(file) {
    say("reading");
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.onload = function () {
      URL.revokeObjectURL(url);
      try {
        submitCode(reader.decodeFromCanvas(canvasFor(image)).getText());
      } catch (_error) {
        say("no-code");
      }
    };
    image.onerror = function () {
      URL.revokeObjectURL(url);
      say("no-code");
    };
    image.src = url;
  }

  show(section, true);
  startButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", function () {
    stopCamera();
    say("stopped");
  });
  if (!window.isSecureContext) {
    say("insecure"); // browsers offer the camera only over HTTPS (and on localhost)
  } else if (navigator.mediaDevices && navigator.mediaDevices.enumerateDevices) {
    // The camera button only where there is a camera: a PC without one gets the photo.
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      var hasCamera = devices.some(function (device) {
        return device.kind === "videoinput";
      });
      show(controlsBox, hasCamera);
    });
  }

  photo.addEventListener("change", function () {
    if (photo.files && photo.files[0]) {
      readPhoto(photo.files[0]);
    }
  });

  // Leaving the page (or sending the form) turns the camera off.
  window.addEventListener("pagehide", stopCamera);
})();
